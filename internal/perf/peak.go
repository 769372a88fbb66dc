package perf

import (
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// PeakHeap samples the bytes of live and not yet collected heap objects every millisecond while
// it runs; Stop returns the largest sample.
type PeakHeap struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapObjects = "/memory/classes/heap/objects:bytes"

// StartPeakHeap starts sampling.
func StartPeakHeap() *PeakHeap {
	p := &PeakHeap{stop: make(chan struct{})}
	p.done.Go(func() {
		sample := []metrics.Sample{{Name: heapObjects}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			p.peak = max(p.peak, sample[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	})
	return p
}

// Stop ends sampling and returns the peak in bytes.
func (p *PeakHeap) Stop() uint64 {
	close(p.stop)
	p.done.Wait()
	return p.peak
}

// ProcessCPU is the CPU time (user and system) the process has used so far.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
