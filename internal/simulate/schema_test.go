package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/testenv"
)

// docRecord mirrors the record documented in docs/simulate.md, field by field, with pointers so
// that a missing key is seen as nil rather than as a zero value.
type docRecord struct {
	Source        *string  `json:"source"`
	Destination   *string  `json:"destination"`
	SourceIP      *string  `json:"sourceIP"`
	DestinationIP *string  `json:"destinationIP"`
	Protocol      *string  `json:"protocol"`
	Port          *int     `json:"port"`
	Allowed       *bool    `json:"allowed"`
	Egress        *docSide `json:"egress"`
	Ingress       *docSide `json:"ingress"`
}

type docSide struct {
	Action    *string `json:"action"`
	Tier      *string `json:"tier"`
	Object    *string `json:"object"`
	Rule      *string `json:"rule"`
	Section   *string `json:"section"`
	SectionID *string `json:"sectionID"`
	NSXRule   *string `json:"nsxRule"`
	RuleID    *string `json:"ruleID"`
}

// TestJSONRoundTrip decodes every line of the samples' JSON output into the documented schema
// (unknown keys refused), checks that every field is present and well-formed, and re-encodes it
// to the same bytes: nothing in the output is outside the schema, nothing in the schema is
// missing from the output.
func TestJSONRoundTrip(t *testing.T) {
	stdout, stderr, code := runCommand(t, "-f", samplesDir(t), "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	lines := 0
	for sc.Scan() {
		lines++
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var r docRecord
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d does not match the documented schema: %v\n%s", lines, err, sc.Text())
		}
		checkDocRecord(t, &r)
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, sc.Bytes()) {
			t.Fatalf("line %d does not round-trip through the documented schema:\n got %s\nwant %s", lines, again, sc.Bytes())
		}
	}
	if lines != 112 {
		t.Errorf("%d lines, want 112 (JSON Lines: one record per probe)", lines)
	}
}

func checkDocRecord(t *testing.T, r *docRecord) {
	t.Helper()
	if r.Source == nil || r.Destination == nil || r.SourceIP == nil || r.DestinationIP == nil || r.Protocol == nil ||
		r.Port == nil || r.Allowed == nil || r.Egress == nil || r.Ingress == nil {
		t.Fatalf("record with a missing field: %+v", r)
	}
	podName := regexp.MustCompile(`^[a-z0-9-]+/[a-z0-9-]+$`)
	if !podName.MatchString(*r.Source) || !podName.MatchString(*r.Destination) {
		t.Errorf("source %q / destination %q are not namespace/pod", *r.Source, *r.Destination)
	}
	if *r.Protocol != "TCP" && *r.Protocol != "UDP" && *r.Protocol != "SCTP" {
		t.Errorf("protocol %q", *r.Protocol)
	}
	for name, s := range map[string]*docSide{"egress": r.Egress, "ingress": r.Ingress} {
		if s.Action == nil || s.Tier == nil || s.Object == nil || s.Rule == nil || s.Section == nil || s.SectionID == nil || s.NSXRule == nil || s.RuleID == nil {
			t.Fatalf("%s side with a missing field: %+v", name, s)
		}
		switch *s.Tier {
		case "Security", "Developer", "Baseline":
			if *s.Object == "" || *s.Rule == "" {
				t.Errorf("%s decided in tier %s names no object or rule", name, *s.Tier)
			}
		case TierDefault:
			if *s.Object != "" || *s.Rule != "" {
				t.Errorf("%s decided by the Default tier names object %q rule %q", name, *s.Object, *s.Rule)
			}
		default:
			t.Errorf("%s tier %q is not documented", name, *s.Tier)
		}
		if *s.Section == "" || *s.SectionID == "" || *s.NSXRule == "" || *s.RuleID == "" {
			t.Errorf("%s side names no NSX section or rule: %+v", name, s)
		}
	}
}

// TestDocsListEveryJSONField keeps docs/simulate.md and the output in step: the field tables of
// its JSON section list exactly the keys of Record and SideRecord, with their JSON types.
func TestDocsListEveryJSONField(t *testing.T) {
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "simulate.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| (string|integer|boolean|object) \\|")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = m[2]
	}
	actual := map[string]string{}
	var rec map[string]any
	b, _ := json.Marshal(Record{})
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range rec {
		actual[k] = jsonType(v)
		if side, ok := v.(map[string]any); ok {
			for sk, sv := range side {
				actual[sk] = jsonType(sv)
			}
		}
	}
	for k, typ := range actual {
		if documented[k] != typ {
			t.Errorf("field %q (%s) is documented as %q in docs/simulate.md", k, typ, documented[k])
		}
	}
	for k := range documented {
		if _, ok := actual[k]; !ok {
			t.Errorf("docs/simulate.md documents field %q, which the output does not have", k)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "integer" // every number in a record is a port
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	}
	return "unknown"
}
