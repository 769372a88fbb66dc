package explain

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the explanation as one JSON document.
func WriteJSON(w io.Writer, e *Explanation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

// WriteText writes the explanation for people.
func WriteText(w io.Writer, e *Explanation) error {
	b := bufio.NewWriter(w)
	for i, c := range e.Connections {
		if i > 0 {
			fmt.Fprintln(b)
		}
		verdict := "DENIED"
		if c.Allowed {
			verdict = "ALLOWED"
		}
		fmt.Fprintf(b, "%s (%s) → %s (%s), %d/%s: %s\n", e.Source.Pod, e.Source.IP, e.Destination.Pod, e.Destination.IP, c.Port, c.Protocol, verdict)
		writeSide(b, "egress at "+e.Source.Pod, c.Egress)
		writeSide(b, "ingress at "+e.Destination.Pod, c.Ingress)
		if len(c.Staged) == 0 {
			fmt.Fprintln(b, "\n  staged policies: none would change this connection")
		}
		for _, s := range c.Staged {
			fmt.Fprintf(b, "\n  staged: if %s were enforced, the connection would be %s (decided by %s)\n", s.Policy, allowedWord(s.Allowed), orWord(s.Decider, "no microseg rule"))
		}
		if t := c.Traceflow; t != nil {
			writeTrace(b, t)
		}
	}
	if len(e.Notes) > 0 {
		fmt.Fprintln(b, "\nnotes:")
		for _, n := range e.Notes {
			fmt.Fprintf(b, "  - %s\n", n)
		}
	}
	if len(e.Missing) > 0 {
		fmt.Fprintln(b, "\ncould not read:")
		for _, m := range e.Missing {
			fmt.Fprintf(b, "  - %s\n", m)
		}
	}
	return b.Flush()
}

func writeSide(b *bufio.Writer, where string, s Side) {
	fmt.Fprintf(b, "\n  %s: %s\n", where, s.Action)
	if s.Tier == TierDefault {
		for _, why := range s.Why {
			fmt.Fprintf(b, "    %s\n", why)
		}
		return
	}
	fmt.Fprintf(b, "    tier        %s\n", s.Tier)
	fmt.Fprintf(b, "    decided by  %s, rule %s\n", s.Object, s.Rule)
	for i, why := range s.Why {
		label := "why"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(b, "    %-11s %s\n", label, why)
	}
	fmt.Fprintf(b, "    NSX         section %q (id %s), rule %q (id %s)\n", s.NSX.Section, orUnknown(s.NSX.SectionID), s.NSX.Rule, orUnknown(s.NSX.RuleID))
	if s.NSX.IDsFrom != "" {
		fmt.Fprintf(b, "                ids: %s\n", s.NSX.IDsFrom)
	}
}

func writeTrace(b *bufio.Writer, t *Trace) {
	if t.Skipped != "" {
		fmt.Fprintf(b, "\n  NSX Traceflow: not run: %s\n", t.Skipped)
		return
	}
	fmt.Fprintf(b, "\n  NSX Traceflow (%s API): %s\n", t.API, t.Message)
	for _, s := range []struct {
		name string
		side TraceSide
	}{{"source port", t.Source}, {"destination port", t.Destination}} {
		if s.side.Observed == "" {
			fmt.Fprintf(b, "    DFW at the %s: not reached\n", s.name)
			continue
		}
		expected := ""
		if s.side.Expected != "" {
			expected = fmt.Sprintf(" (the policies name rule %s)", s.side.Expected)
		}
		fmt.Fprintf(b, "    DFW at the %s: %s by rule %s%s\n", s.name, s.side.Observed, s.side.RuleID, expected)
	}
	fmt.Fprintf(b, "    delivered: %v\n", t.Delivered)
}

func orWord(s, word string) string {
	if strings.TrimSpace(s) == "" {
		return word
	}
	return s
}
