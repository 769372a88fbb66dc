package policy

import "fmt"

// Sequence numbers. NSX orders policies (within a category) and rules (within a policy) by
// sequence_number, lower first; equal numbers have no defined order. microseg gives its objects
// distinct numbers in their band, in model order, and changes as few as it can: the objects that
// already have numbers in the right relative order keep them (a longest increasing subsequence,
// as the Manager backend keeps sections), and the others get numbers spread evenly in the gaps
// between their kept neighbours, skipping numbers other users hold. Only when a gap is too narrow
// is the whole band renumbered, spread evenly so that later inserts find room.

// assignNumbers returns a number for each of n items in model order. current[i] is item i's
// present number (ok[i] false when it has none); taken are numbers others hold in the band. It
// fails only when the band has fewer free numbers than items.
func assignNumbers(band Band, current []int64, ok []bool, taken map[int64]bool) ([]int64, error) {
	n := len(current)
	out := make([]int64, n)
	kept := keptInOrder(band, current, ok, taken)
	prev := band.Lo - 1
	prevIdx := -1
	fill := func(from, to int, hi int64) bool { // items from..to-1 strictly between prev and hi
		nums, fits := spread(prev, hi, to-from, taken)
		if !fits {
			return false
		}
		copy(out[from:to], nums)
		return true
	}
	for i := 0; i <= n; i++ {
		if i < n && !kept[i] {
			continue
		}
		hi := band.Hi + 1
		if i < n {
			hi = current[i]
		}
		if !fill(prevIdx+1, i, hi) {
			if nums, fits := spread(band.Lo-1, band.Hi+1, n, taken); fits {
				return nums, nil
			}
			return nil, fmt.Errorf("the sequence band %s has fewer free numbers than the %d objects to place in it: widen the band", band, n)
		}
		if i < n {
			out[i], prev, prevIdx = current[i], current[i], i
		}
	}
	return out, nil
}

// keptInOrder marks a longest strictly increasing run (not necessarily contiguous) of the
// present numbers that lie in the band and are not taken by others.
func keptInOrder(band Band, current []int64, ok []bool, taken map[int64]bool) []bool {
	var idx []int // candidate item indexes
	for i := range current {
		if ok[i] && band.Contains(current[i]) && !taken[current[i]] {
			idx = append(idx, i)
		}
	}
	// Patience sorting: tails[k] is the index (into idx) ending the best run of length k+1.
	var tails []int
	parent := make([]int, len(idx))
	for j, i := range idx {
		v := current[i]
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if current[idx[tails[mid]]] < v {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		parent[j] = -1
		if lo > 0 {
			parent[j] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, j)
		} else {
			tails[lo] = j
		}
	}
	kept := make([]bool, len(current))
	if len(tails) > 0 {
		for j := tails[len(tails)-1]; j >= 0; j = parent[j] {
			kept[idx[j]] = true
		}
	}
	return kept
}

// spread picks k numbers strictly between lo and hi, evenly spaced, avoiding taken ones; fits is
// false when there are not enough free numbers.
func spread(lo, hi int64, k int, taken map[int64]bool) ([]int64, bool) {
	if k == 0 {
		return nil, true
	}
	out := make([]int64, 0, k)
	step := float64(hi-lo) / float64(k+1)
	last := lo
	for j := 1; j <= k; j++ {
		v := lo + int64(step*float64(j))
		if v <= last {
			v = last + 1
		}
		for v < hi && taken[v] {
			v++
		}
		if v >= hi {
			return nil, false
		}
		out = append(out, v)
		last = v
	}
	return out, true
}
