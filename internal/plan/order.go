package plan

// Block placement. microseg's sections form one contiguous block, in the model's order, below the
// anchor section (or at the top of the DFW). To restore that with the fewest moves, the planner
// keeps in place the longest run of existing sections that are already in the right relative
// order with no foreign section between them — the longest increasing subsequence, by desired
// index, within one foreign-free segment of the DFW below the anchor (ties: the topmost segment)
// — and moves or creates every other section next to them: before the first kept section, or
// after the section that precedes it in the model. Foreign sections are never moved: one that
// sits between microseg's sections ends up above or below the block. Owned sections that are
// about to be deleted (obsolete, duplicate, guard) do not split a segment.

// longestIncreasing returns the indices into seq of a longest strictly increasing subsequence
// (patience sorting, O(n log n)); the result is deterministic for a given seq.
func longestIncreasing(seq []int) []int {
	if len(seq) == 0 {
		return nil
	}
	tails := []int{}              // tails[l] = index in seq of the smallest tail of a run of length l+1
	prev := make([]int, len(seq)) // predecessor index in the best run ending at i
	for i, v := range seq {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if seq[tails[mid]] < v {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo > 0 {
			prev[i] = tails[lo-1]
		} else {
			prev[i] = -1
		}
		if lo == len(tails) {
			tails = append(tails, i)
		} else {
			tails[lo] = i
		}
	}
	out := make([]int, len(tails))
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		out[i] = k
	}
	return out
}

// keptSections returns, per desired section index, whether its existing section stays where it
// is. matchedAt maps a DFW index to the desired index of the section found there (only for the
// one section matched per key). Only sections below anchorIndex (-1: no anchor) qualify.
func keptSections(x *stateIndex, matchedAt map[int]int, anchorIndex, desiredCount int) []bool {
	kept := make([]bool, desiredCount)
	var best []int
	var segment []int // desired indices of the matched sections of the current segment
	closeSegment := func() {
		if len(segment) > len(best) { // strictly longer: ties keep the topmost segment
			if run := longestIncreasing(segment); len(run) > len(best) {
				best = best[:0]
				for _, i := range run {
					best = append(best, segment[i])
				}
			}
		}
		segment = segment[:0]
	}
	for i := anchorIndex + 1; i < len(x.sections); i++ {
		if !x.owned[i] {
			closeSegment()
			continue
		}
		if d, ok := matchedAt[i]; ok {
			segment = append(segment, d)
		}
	}
	closeSegment()
	for _, d := range best {
		kept[d] = true
	}
	return kept
}
