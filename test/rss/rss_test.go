// Package rss measures the operator's memory with many pods: it starts the local control plane
// and an NSX simulator, creates the pods through the API (as a Deployment's ReplicaSet and the
// kubelet would leave them: scheduled, running, with their status; there is no kubelet), runs the
// operator's binary against them and reads its resident set size once its first sync is done.
//
// It takes minutes, so it runs only when asked:
//
//	MICROSEG_RSS=1 KUBEBUILDER_ASSETS=$(make -s controlplane) go test ./test/rss/ -v -timeout 30m
//
// MICROSEG_RSS_PODS sets the number of pods (default 20000); MICROSEG_RSS_BINARY runs another
// build of the operator (for instance one built from an older commit) instead of this tree's.
package rss_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
)

const podsPerNamespace = 100

func TestOperatorRSS(t *testing.T) {
	if os.Getenv("MICROSEG_RSS") == "" {
		t.Skip("set MICROSEG_RSS=1 to measure the operator's memory with many pods (takes minutes)")
	}
	pods := 20000
	if v := os.Getenv("MICROSEG_RSS_PODS"); v != "" {
		var err error
		if pods, err = strconv.Atoi(v); err != nil {
			t.Fatalf("MICROSEG_RSS_PODS: %v", err)
		}
	}
	ctx := context.Background()
	env, err := testenv.Start(ctx, testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(env.Config, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	binary := os.Getenv("MICROSEG_RSS_BINARY")
	if binary == "" {
		binary = build(t)
	}

	start := time.Now()
	createWorld(t, ctx, k8s, pods)
	t.Logf("created %d pods in %d namespaces through the API in %s", pods, pods/podsPerNamespace, time.Since(start).Round(time.Second))

	nsx, err := simnsx.Start(simnsx.Options{Transport: simnsx.TLS})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nsx.Close)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ca.pem"), string(nsx.CAPEM))
	write(t, filepath.Join(dir, "creds", nsxconn.UsernameFile), nsx.User)
	write(t, filepath.Join(dir, "creds", nsxconn.PasswordFile), nsx.Password)
	probe := freeAddr(t)
	cmd := exec.Command(binary, "--nsx-url="+nsx.URL, "--nsx-auth=session", "--nsx-credentials-dir="+filepath.Join(dir, "creds"),
		"--nsx-ca-file="+filepath.Join(dir, "ca.pem"), "--cluster-id=rss", "--metrics-bind-address=0",
		"--health-probe-bind-address="+probe, "--sync-delay=1s", "--nsx-api=manager")
	// gctrace prints the live heap after every collection, which the resident set (pages the Go
	// runtime keeps after a peak) does not show.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.KubeconfigPath, "GODEBUG=gctrace=1")
	logs, err := os.Create(filepath.Join(dir, "operator.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitReady(t, cmd, "http://"+probe+"/readyz", logs.Name())
	t.Logf("operator %s ready (first sync done) after %s", binary, time.Since(start).Round(time.Second))
	// Let the caches and the heap settle, then read the resident set (now and at its peak).
	time.Sleep(30 * time.Second)
	rss, hwm := memory(t, cmd.Process.Pid)
	live := lastLiveHeap(t, logs.Name())
	t.Logf("operator RSS with %d pods: %.0f MiB (peak %.0f MiB); live heap after the last collection: %d MB", pods, rss/1024, hwm/1024, live)
	if out := os.Getenv("MICROSEG_RSS_OUT"); out != "" {
		write(t, out, fmt.Sprintf("pods=%d rss_kib=%.0f hwm_kib=%.0f live_heap_mb=%d binary=%s\n", pods, rss, hwm, live, binary))
	}
}

// build builds this tree's operator.
func build(t *testing.T) string {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "microseg")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the operator: %v\n%s", err, b)
	}
	return out
}

// createWorld creates namespaces of podsPerNamespace pods with two NetworkPolicies each.
func createWorld(t *testing.T, ctx context.Context, k8s client.Client, pods int) {
	t.Helper()
	namespaces := (pods + podsPerNamespace - 1) / podsPerNamespace
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if err := createPod(ctx, k8s, i); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for n := range namespaces {
		ns := nsName(n)
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": fmt.Sprintf("t%d", n%10)}}}); err != nil {
			t.Fatal(err)
		}
		for _, np := range policies(ns) {
			if err := k8s.Create(ctx, np); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range pods {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func nsName(n int) string { return fmt.Sprintf("team-%03d", n) }

func policies(ns string) []client.Object {
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	port := intstr.FromString("http")
	allow := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "frontend-to-backend"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "backend"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
			}},
		}}
	return []client.Object{deny, allow}
}

// createPod creates pod i as a Deployment's pod looks once the kubelet runs it: two containers,
// environment, resources, probes, volumes, owner, annotations, then the status with conditions and
// container statuses.
func createPod(ctx context.Context, k8s client.Client, i int) error {
	app := []string{"frontend", "backend", "worker", "cache", "db"}[i%5]
	ip := fmt.Sprintf("10.%d.%d.%d", 16+i/65536, (i/256)%256, i%256)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: nsName(i / podsPerNamespace), Name: fmt.Sprintf("%s-7d9f8c6b5-%05d", app, i),
			Labels: map[string]string{"app": app, "version": "v1", "pod-template-hash": "7d9f8c6b5", "team": fmt.Sprintf("t%d", i%10)},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2030-01-01T00:00:00Z", "prometheus.io/scrape": "true",
				"prometheus.io/port": "9100"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-7d9f8c6b5", UID: "2f0c4a1e-0000-4000-8000-000000000000"}},
		},
		Spec: corev1.PodSpec{
			NodeName: fmt.Sprintf("node-%d", i%50),
			Containers: []corev1.Container{
				{
					Name: app, Image: "registry.example.com/" + app + ":1.2.3",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9100}},
					Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "DATABASE_URL", Value: "postgres://db:5432/app"}, {Name: "FEATURE_FLAGS", Value: "a,b,c"}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}},
					LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/live", Port: intstr.FromString("http")}}},
					VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}},
				},
				{
					Name: "proxy", Image: "registry.example.com/proxy:1.0",
					Ports:     []corev1.ContainerPort{{Name: "proxy-admin", ContainerPort: 15000}},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
				},
			},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}}},
		},
	}
	if err := k8s.Create(ctx, p); err != nil {
		return err
	}
	started := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "192.168.0.1", PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &started,
		QOSClass: corev1.PodQOSBurstable,
	}
	for _, c := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: started})
	}
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Ready: true, Started: new(true),
			Image: c.Image, ImageID: c.Image + "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			ContainerID: "containerd://" + strings.Repeat("ab", 32), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}})
	}
	return k8s.Status().Update(ctx, p)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls the readiness probe: ready once the first sync reached NSX.
func waitReady(t *testing.T, cmd *exec.Cmd, url, logFile string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		if cmd.ProcessState != nil {
			break
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(time.Second)
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("the operator did not become ready; its log ends:\n%s", tail(string(b), 3000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lastLiveHeap is the live heap (MB) the last gctrace line of the log reports: "gc N @…: …,
// A->B->C MB, …" where C is what the collection left live.
func lastLiveHeap(t *testing.T, logFile string) int {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	live := -1
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		for _, field := range strings.Split(line, ",") {
			field = strings.TrimSpace(field)
			if !strings.HasSuffix(field, " MB") || strings.Count(field, "->") != 2 {
				continue
			}
			parts := strings.Split(strings.TrimSuffix(field, " MB"), "->")
			if v, err := strconv.Atoi(parts[2]); err == nil {
				live = v
			}
		}
	}
	if live < 0 {
		t.Fatal("no gctrace line in the operator's log")
	}
	return live
}

// memory reads VmRSS and VmHWM (KiB) of a process.
func memory(t *testing.T, pid int) (rss, hwm float64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}
