package operator_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// policyStories run the operator's main stories again on the NSX Policy API, after moving the
// cluster there as NSX 9 forces: NCP switches to Policy mode (its pods get segment ports), the
// operator finds it out (--nsx-api auto) and migrates microseg's DFW from Manager sections to
// Policy security policies, with Traceflow after every NSX write proving that no flow the
// reference table denies is ever allowed. They run last in the ordered "the operator" container;
// the suite's other specs work on either API.
func policyStories() {
	It("moves to the Policy API when NCP does, exposing no flow at any NSX write", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		op.stop()

		By("NCP moving to Policy mode: the pods get segment ports")
		stopEmu()
		startEmulator(ncpemu.APIPolicy)
		Expect(emu.WaitForSync(ctx)).To(Succeed())

		By("auto refusing to choose while the old Manager logical ports are still there")
		nsxAPI = "auto"
		op = startOperator()
		Eventually(ctx, func(g Gomega) {
			p, err := csp(ctx, "protect-service-d")
			g.Expect(err).NotTo(HaveOccurred())
			programmed := cond(p, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonInvalidConfiguration))
			g.Expect(programmed.Message).To(ContainSubstring("both as Policy segment ports"))
		}).Should(Succeed())
		op.stop()

		By("NCP's migration completing: the Manager-only logical ports go")
		ports, err := admin.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{ContainerPortsOnly: true})
		Expect(err).NotTo(HaveOccurred())
		for _, p := range ports {
			if p.CreateUser != "nsx_policy" && slices.Contains(p.Tags, nsxclient.Tag{Scope: "ncp/cluster", Tag: clusterID}) {
				Expect(admin.DeleteLogicalPort(ctx, p.ID, true)).To(Succeed())
			}
		}
		// microseg's Manager sections now apply to the segment ports' Manager realization.
		Expect(checkTable(ctx, referenceTable)).To(Succeed())

		By("the operator migrating, with Traceflow after every write it makes")
		check := newExposureCheck(ctx, referenceTable)
		op = startOperator(func(o *operator.Options) {
			o.NSX.Observer = check.observe
			o.Policy.MaxObjectsPerCall = 12 // the first Policy sync takes several calls, under a guard
		})
		Eventually(ctx, func(g Gomega) {
			g.Expect(allCurrent(ctx)).To(Succeed())
			st := readOwned(ctx)
			g.Expect(st.sections).To(BeEmpty(), "microseg's Manager sections are gone")
			g.Expect(st.groups).To(BeEmpty(), "microseg's NSGroups and IP sets are gone")
		}).WithTimeout(longWait).Should(Succeed())
		Expect(checkTable(ctx, referenceTable)).To(Succeed())
		Expect(check.result()).To(Succeed())
		Expect(labelled("microseg_nsx_api", "api", "policy")).To(Equal(1.0))
		nsxAPI = "policy"

		By("status.realized naming Policy paths")
		p, err := csp(ctx, "protect-service-d")
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Status.Realized.SectionIDs).To(HaveLen(1))
		Expect(p.Status.Realized.SectionIDs[0]).To(HavePrefix("/infra/domains/default/security-policies/"))
		Expect(p.Status.Realized.GroupIDs).To(HaveEach(HavePrefix("/infra/domains/default/groups/")))
		path, ok := policyOwned(ctx).Owned().Section(sectionOf("protect-service-d"))
		Expect(ok).To(BeTrue())
		Expect(path).To(Equal(p.Status.Realized.SectionIDs[0]))
	})

	It("keeps the table right on the Policy API while Deployments scale", func(ctx context.Context) {
		for _, step := range []struct {
			service  string
			replicas int32
		}{{"service-b", 3}, {"service-c", 1}, {"service-b", 2}, {"service-c", 2}} {
			By(fmt.Sprintf("scaling %s to %d", step.service, step.replicas))
			scale(ctx, step.service, step.replicas)
			Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		}
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("repairs edits made through the Policy API behind its back", func(ctx context.Context) {
		path, ok := policyOwned(ctx).Owned().Section(sectionOf("protect-service-d"))
		Expect(ok).To(BeTrue())
		id := path[strings.LastIndex(path, "/")+1:]
		sp, err := admin.Policy().GetSecurityPolicy(ctx, "default", id)
		Expect(err).NotTo(HaveOccurred())
		want := policyRuleSummary(sp.Rules)

		By("turning the REJECT rule into an ALLOW and deleting the other rules")
		edited := false
		for _, r := range sp.Rules {
			if r.Action == "REJECT" && !edited {
				r.Action, r.Revision = "ALLOW", nil
				Expect(admin.Policy().PatchRule(ctx, "default", id, r)).To(Succeed())
				edited = true
			} else {
				Expect(admin.Policy().DeleteRule(ctx, "default", id, r.ID)).To(Succeed())
			}
		}
		Expect(edited).To(BeTrue())
		Eventually(ctx, func(g Gomega) {
			now, err := admin.Policy().GetSecurityPolicy(ctx, "default", id)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(policyRuleSummary(now.Rules)).To(Equal(want))
		}).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("makes no NSX write when restarted against unchanged state on the Policy API", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		op.stop()
		writes := policyWrites()
		Expect(writes).To(BeNumerically(">", 0))
		op = startOperator()
		Eventually(op.Synced).Should(BeTrue())
		reads := policyReads()
		Eventually(policyReads).Should(BeNumerically(">", reads), "a periodic resync reads NSX")
		Expect(policyWrites()).To(Equal(writes), "Policy writes after the restart")
		Expect(checkTable(ctx, referenceTable)).To(Succeed())
	})
}

// exposureCheck traces every pair of the reference services' pods after each successful NSX
// write the operator makes, and records any flow allowed that the table denies (the table is
// the configuration before and after the change).
type exposureCheck struct {
	ctx    context.Context
	table  map[[2]string]bool
	mu     sync.Mutex
	writes int
	errs   []string
}

func newExposureCheck(ctx context.Context, table map[[2]string]bool) *exposureCheck {
	return &exposureCheck{ctx: ctx, table: table}
}

func (c *exposureCheck) observe(ci nsxclient.CallInfo) {
	if ci.Method == "GET" || ci.Err != nil || ci.StatusCode >= 300 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	ports := map[string]ncpemu.PodPort{}
	for _, p := range emu.Ports() {
		ports[p.Pod.String()] = p
	}
	for row, allowed := range c.table {
		if allowed {
			continue
		}
		srcs, _ := podsOf(c.ctx, row[0])
		dsts, _ := podsOf(c.ctx, row[1])
		for _, s := range srcs {
			for _, d := range dsts {
				ps, pd := ports[s], ports[d]
				if len(ps.IPs) == 0 || len(pd.IPs) == 0 {
					continue
				}
				res, err := sim.Traceflow(c.ctx, dataplane.Flow{SrcPortID: ps.PortID, SrcIP: ps.IPs[0].String(), DstPortID: pd.PortID,
					DstIP: pd.IPs[0].String(), Protocol: "TCP", DstPort: 8080})
				if err == nil && res.Allowed {
					c.errs = append(c.errs, fmt.Sprintf("after write %d (%s): %s → %s allowed", c.writes, ci.Endpoint, s, d))
				}
			}
		}
	}
}

func (c *exposureCheck) result() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes == 0 {
		return fmt.Errorf("the operator made no NSX write to check")
	}
	if len(c.errs) > 0 {
		return fmt.Errorf("%d exposures: %s", len(c.errs), strings.Join(c.errs, "; "))
	}
	GinkgoWriter.Printf("migration: %d NSX writes, the reference table's denials held after each\n", c.writes)
	return nil
}

// policyOwned reads what NSX holds of the cluster through the Policy backend.
func policyOwned(ctx context.Context) nsxsync.State {
	b, err := policy.New(admin, policy.Config{ClusterID: clusterID})
	Expect(err).NotTo(HaveOccurred())
	st, err := b.Read(ctx, nsxsync.ReadFull)
	Expect(err).NotTo(HaveOccurred())
	return st
}

// policyRuleSummary is what matters of a policy's rules for the DFW's verdicts, in order.
func policyRuleSummary(rules []nsxclient.PolicyRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, fmt.Sprintf("%s %s %s %s", r.DisplayName, r.Action, r.Direction, ownership.TagValue(r.Tags, ownership.TagKey)))
	}
	return out
}

// policyWrites counts the simulator's writes to Policy groups and security policies (the NCP
// emulator's segment port writes are not counted).
func policyWrites() int64 {
	var n int64
	for endpoint, st := range sim.Stats().Endpoints {
		method, path, _ := strings.Cut(endpoint, " ")
		if method != "GET" && strings.HasPrefix(path, "/policy/api/v1/infra") && !strings.Contains(path, "/segments") {
			n += st.Calls
		}
	}
	return n
}

// policyReads counts the hierarchical reads of the Policy tree (every sync makes one).
func policyReads() int64 { return sim.Stats().Endpoints["GET /policy/api/v1/infra"].Calls }

// labelled reads a counter or gauge from controller-runtime's registry: the series whose label has
// that value (label "": the first series).
func labelled(name, label, value string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" && !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == label && l.GetValue() == value }) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
