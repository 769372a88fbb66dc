package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/explain"
	"github.com/microseg/microseg/internal/matrix"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/nsxclient"
)

// The tools walk-through: kubectl-microseg's matrix and explain against this cluster, as the
// tenant of the RBAC walk-through (view rights cluster-wide, nothing more), explain with NSX's own
// Traceflow, then a Staged ClusterSecurityPolicy: its impact on its status, no change of traffic,
// and its enforcement in one NSX write. Each command is run in-process exactly as the binary runs
// it, and its output printed; -o json runs check it.

// stagedDemo is the walk-through's Staged policy: service-b would no longer accept service-a.
var stagedDemo = &securityv1alpha1.ClusterSecurityPolicy{
	ObjectMeta: metav1.ObjectMeta{Name: "staged-deny-a-to-b"},
	Spec: securityv1alpha1.ClusterSecurityPolicySpec{Tier: securityv1alpha1.TierSecurity, Priority: 50, Enforcement: securityv1alpha1.EnforcementStaged,
		Subject: securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "y1"}},
			PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-b"}}}},
		Ingress: []securityv1alpha1.IngressRule{{Name: "deny-service-a", Action: securityv1alpha1.ActionDeny,
			From:  []securityv1alpha1.Peer{{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "x1"}}}},
			Ports: []securityv1alpha1.Port{{NamedPort: "http"}}}},
	}}

func (d *demo) toolsWalkthrough(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "\ndemo: kubectl-microseg against this cluster, as user %q (view rights cluster-wide; --kubeconfig %s):\n", tenant, d.env.KubeconfigPath)
	var failed []string
	check := func(what string, err error) {
		mark := "ok  "
		if err != nil {
			mark, what = "FAIL", what+": "+err.Error()
			failed = append(failed, what)
		}
		fmt.Fprintf(w, "  %s %s\n", mark, what)
	}
	check("matrix: every group cell is the reference table's verdict", d.showMatrix(ctx, w))
	check("explain with NSX's Traceflow: a → d rejected by protect-service-d, c → d allowed, the dataplane agrees",
		d.showExplain(ctx, w))
	check("a Staged policy: in NSX disabled, no traffic change, its impact on its status, enforced in one NSX write", d.showStaged(ctx, w))
	if len(failed) > 0 {
		return fmt.Errorf("the kubectl-microseg walk-through failed: %s", strings.Join(failed, "; "))
	}
	fmt.Fprintln(w, "demo: the kubectl-microseg walk-through behaves as the README says.")
	return nil
}

// tool runs a kubectl-microseg command in-process and returns its stdout, failing on an exit code
// other than 0.
func tool(ctx context.Context, run func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	if code := run(ctx, args, &out, &errOut); code != 0 {
		return out.String(), fmt.Errorf("exit %d: %s", code, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func (d *demo) cluster() []string {
	return []string{"--kubeconfig", d.env.KubeconfigPath, "--as", tenant, "--cluster-id", clusterID}
}

func (d *demo) nsxFlags() []string {
	return []string{"--nsx-url", d.srv.URL, "--nsx-ca-file", filepath.Join(d.dir, "nsx-ca.pem"), "--nsx-credentials-dir", filepath.Join(d.dir, "nsx-credentials")}
}

func (d *demo) showMatrix(ctx context.Context, w io.Writer) error {
	args := append(d.cluster(), "--ports", "8080")
	out, err := tool(ctx, matrix.Command, args...)
	fmt.Fprintf(w, "\n$ kubectl microseg matrix --as %s --ports 8080\n%s\n", tenant, out)
	if err != nil {
		return err
	}
	js, err := tool(ctx, matrix.Command, append(args, "-o", "json")...)
	if err != nil {
		return err
	}
	want := map[[2]string]bool{}
	for _, row := range reference.Table {
		want[[2]string{reference.Namespace[row.From] + "/" + row.From, reference.Namespace[row.To] + "/" + row.To}] = row.Allowed
	}
	seen := 0
	for sc := bufio.NewScanner(strings.NewReader(js)); sc.Scan(); {
		var rec simulate.GroupRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return err
		}
		if allowed, ok := want[[2]string{rec.Source, rec.Destination}]; ok {
			seen++
			if rec.Verdict == "mixed" || rec.Allowed != allowed {
				return fmt.Errorf("%s → %s is %s, the reference table says allowed=%v", rec.Source, rec.Destination, rec.Verdict, allowed)
			}
		}
	}
	if seen != len(want) {
		return fmt.Errorf("%d of the reference table's %d rows in the matrix", seen, len(want))
	}
	return nil
}

// explainJSON runs explain with -o json.
func (d *demo) explainJSON(ctx context.Context, src, dst string) (*explain.Explanation, error) {
	js, err := tool(ctx, explain.Command, append(append([]string{src, dst, "--port", "8080", "-o", "json"}, d.cluster()...), d.nsxFlags()...)...)
	if err != nil {
		return nil, err
	}
	e := &explain.Explanation{}
	return e, json.Unmarshal([]byte(js), e)
}

func (d *demo) showExplain(ctx context.Context, w io.Writer) error {
	out, err := tool(ctx, explain.Command, append(append([]string{"x1/deployment/service-a", "z1/deployment/service-d", "--port", "8080"}, d.cluster()...), d.nsxFlags()...)...)
	fmt.Fprintf(w, "\n$ kubectl microseg explain x1/deployment/service-a z1/deployment/service-d --port 8080 --as %s --cluster-id %s \\\n"+
		"    --nsx-url %s --nsx-ca-file …/nsx-ca.pem --nsx-credentials-dir …/nsx-credentials\n%s\n", tenant, clusterID, d.srv.URL, out)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		src, dst, object, rule string
		allowed                bool
	}{
		{"x1/deployment/service-a", "z1/deployment/service-d", "ClusterSecurityPolicy/protect-service-d", "ingress/reject-everyone-else", false},
		{"z1/deployment/service-c", "z1/deployment/service-d", "ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c", true},
	} {
		e, err := d.explainJSON(ctx, c.src, c.dst)
		if err != nil {
			return err
		}
		conn := e.Connections[0]
		tr := conn.Traceflow
		switch {
		case conn.Allowed != c.allowed || conn.Ingress.Object != c.object || conn.Ingress.Rule != c.rule:
			return fmt.Errorf("%s → %s: allowed %v by %s %s", c.src, c.dst, conn.Allowed, conn.Ingress.Object, conn.Ingress.Rule)
		case conn.Ingress.NSX.IDsFrom != "NSX" || conn.Ingress.NSX.RuleID == "":
			return fmt.Errorf("%s → %s: NSX ids %+v", c.src, c.dst, conn.Ingress.NSX)
		case tr == nil || tr.Skipped != "" || !tr.Agrees || tr.Delivered != c.allowed:
			return fmt.Errorf("%s → %s: Traceflow %+v", c.src, c.dst, tr)
		}
	}
	return nil
}

func (d *demo) showStaged(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "\n$ kubectl apply -f staged-deny-a-to-b.yaml   # Security tier, enforcement: Staged: service-b would refuse service-a on http\n")
	if err := d.k8s.Create(ctx, stagedDemo.DeepCopy()); err != nil {
		return err
	}
	defer d.removeStaged(context.WithoutCancel(ctx), w)
	imp, err := d.waitImpact(ctx, func(p *securityv1alpha1.ClusterSecurityPolicy) bool { return p.Status.StagedImpact != nil })
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(imp.Status.StagedImpact, "  ", "  ")
	fmt.Fprintf(w, "$ kubectl get csp staged-deny-a-to-b -o jsonpath='{.status.stagedImpact}'\n  %s\n", b)
	if s := imp.Status.StagedImpact; s.Flips != 4 || s.NewlyDenied != 4 || s.LowerBound {
		return fmt.Errorf("impact %+v, want 4 newly denied (service-a's 2 pods × service-b's 2)", s)
	}
	if imp.Status.Realized == nil || len(imp.Status.Realized.SectionIDs) != 1 {
		return fmt.Errorf("the staged policy's status names no NSX section: %+v", imp.Status.Realized)
	}
	disabled, err := d.rulesDisabled(ctx, imp.Status.Realized.SectionIDs[0])
	if err != nil {
		return err
	}
	for name, off := range disabled {
		if !off {
			return fmt.Errorf("NSX rule %s of the staged policy is enabled", name)
		}
	}
	fmt.Fprintf(w, "  in NSX: %s %s holds %d rule(s), all disabled\n", d.sectionWord(), imp.Status.Realized.SectionIDs[0], len(disabled))
	if allowed, err := d.traced(ctx, "service-a", "service-b"); err != nil || !allowed {
		return errors.Join(fmt.Errorf("service-a → service-b while the policy is staged: allowed %v", allowed), err)
	}
	e, err := d.explainJSON(ctx, "x1/deployment/service-a", "y1/deployment/service-b")
	if err != nil {
		return err
	}
	if st := e.Connections[0].Staged; len(st) != 1 || st[0].Allowed || st[0].Policy != "ClusterSecurityPolicy/staged-deny-a-to-b" {
		return fmt.Errorf("explain shows staged effects %+v", st)
	}
	out, err := tool(ctx, explain.Command, append([]string{"x1/deployment/service-a", "y1/deployment/service-b", "--port", "8080"}, d.cluster()...)...)
	fmt.Fprintf(w, "$ kubectl microseg explain x1/deployment/service-a y1/deployment/service-b --port 8080 --as %s --cluster-id %s\n%s", tenant, clusterID, out)
	if err != nil {
		return err
	}

	writes := d.firewallWrites()
	fmt.Fprintf(w, "$ kubectl patch csp staged-deny-a-to-b --type merge -p '{\"spec\":{\"enforcement\":\"Enforced\"}}'\n")
	if err := d.k8s.Patch(ctx, &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: stagedDemo.Name}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"enforcement":"Enforced"}}`))); err != nil {
		return err
	}
	if _, err := d.waitImpact(ctx, func(p *securityv1alpha1.ClusterSecurityPolicy) bool { return p.Status.StagedImpact == nil }); err != nil {
		return err
	}
	if allowed, err := d.traced(ctx, "service-a", "service-b"); err != nil || allowed {
		return errors.Join(fmt.Errorf("service-a → service-b once enforced: allowed %v", allowed), err)
	}
	n := d.firewallWrites() - writes
	fmt.Fprintf(w, "  enforced: service-a → service-b is denied now; NSX firewall writes for the switch: %d\n", n)
	if n != 1 {
		return fmt.Errorf("enforcing took %d NSX writes, want 1", n)
	}
	return nil
}

// waitImpact waits until the policy is Ready at its generation and cond holds.
func (d *demo) waitImpact(ctx context.Context, cond func(*securityv1alpha1.ClusterSecurityPolicy) bool) (*securityv1alpha1.ClusterSecurityPolicy, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := &securityv1alpha1.ClusterSecurityPolicy{}
		err := d.k8s.Get(ctx, client.ObjectKey{Name: stagedDemo.Name}, p)
		ready := meta.IsStatusConditionTrue(p.Status.Conditions, securityv1alpha1.ConditionReady)
		if err == nil && ready && p.Status.ObservedGeneration == p.Generation && cond(p) {
			return p, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(errors.New("the staged policy's status did not settle within 60s"), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// traced is whether every pod of one service reaches every pod of another on 8080 (Traceflow).
func (d *demo) traced(ctx context.Context, from, to string) (bool, error) {
	pods, err := d.pods(ctx)
	if err != nil {
		return false, err
	}
	allowed, pairs := true, 0
	for _, s := range pods {
		for _, t := range pods {
			if s.Labels["app"] != from || t.Labels["app"] != to || s.Status.PodIP == "" || t.Status.PodIP == "" {
				continue
			}
			res, err := d.sim.Traceflow(ctx, dataplane.Flow{SrcIP: s.Status.PodIP, DstIP: t.Status.PodIP, Protocol: "TCP", DstPort: servedPort})
			if err != nil {
				return false, err
			}
			pairs++
			allowed = allowed && res.Allowed
		}
	}
	if pairs == 0 {
		return false, fmt.Errorf("no pods of %s or %s", from, to)
	}
	return allowed, nil
}

// firewallWrites counts the simulator's writes to firewall sections and rules, NSGroups and
// IPSets (not the NCP emulator's port writes).
func (d *demo) firewallWrites() int64 {
	var n int64
	for endpoint, st := range d.sim.Stats().Endpoints {
		method, path, _ := strings.Cut(endpoint, " ")
		if method == "GET" || strings.Contains(path, "list_with_rules") {
			continue
		}
		manager := strings.Contains(path, "/firewall/") || strings.Contains(path, "/ns-groups") || strings.Contains(path, "/ip-sets")
		// Policy: the DFW's objects under /infra (NCP's segment ports are not microseg's writes).
		policy := strings.HasPrefix(path, "/policy/api/v1/infra") && !strings.Contains(path, "/segments")
		if manager || policy {
			n += st.Calls
		}
	}
	return n
}

// rulesDisabled reads whether each NSX rule of a section (Manager API id) or security policy
// (Policy API path, as the policy's status names it) is disabled, by rule name.
func (d *demo) rulesDisabled(ctx context.Context, id string) (map[string]bool, error) {
	out := map[string]bool{}
	if !strings.HasPrefix(id, "/infra/") {
		rules, err := d.nsx.ListRules(ctx, id)
		for _, r := range rules {
			out[r.DisplayName] = r.Disabled
		}
		return out, err
	}
	// /infra/domains/<domain>/security-policies/<id>
	parts := strings.Split(id, "/")
	if len(parts) != 6 || parts[2] != "domains" || parts[4] != "security-policies" {
		return nil, fmt.Errorf("%q is not a security policy's path", id)
	}
	rules, err := d.nsx.Policy().ListRules(ctx, parts[3], parts[5], nsxclient.PolicyListOptions{})
	for _, r := range rules {
		out[r.DisplayName] = r.Disabled
	}
	return out, err
}

// sectionWord is what the API calls a section.
func (d *demo) sectionWord() string {
	if d.api == ncpemu.APIPolicy {
		return "security policy"
	}
	return "section"
}

// removeStaged deletes the walk-through's policy and waits until service-a reaches service-b
// again, so that the cluster is the reference scenario once more.
func (d *demo) removeStaged(ctx context.Context, w io.Writer) {
	if err := client.IgnoreNotFound(d.k8s.Delete(ctx, &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: stagedDemo.Name}})); err != nil {
		fmt.Fprintln(w, "demo: deleting the staged policy:", err)
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := d.traced(ctx, "service-a", "service-b"); err == nil && ok {
			fmt.Fprintln(w, "$ kubectl delete csp staged-deny-a-to-b   # back to the reference scenario")
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Fprintln(w, "demo: service-a does not reach service-b again after the staged policy was deleted")
}
