package plan

import "testing"

func TestLongestIncreasing(t *testing.T) {
	for _, tc := range []struct {
		seq  []int
		want int
	}{
		{nil, 0}, {[]int{3, 0, 1, 2}, 3}, {[]int{0, 1, 2, 3}, 4}, {[]int{3, 2, 1, 0}, 1}, {[]int{1, 0, 3, 2, 5, 4}, 3},
	} {
		got := longestIncreasing(tc.seq)
		if len(got) != tc.want {
			t.Fatalf("%v: %v", tc.seq, got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] || tc.seq[got[i]] <= tc.seq[got[i-1]] {
				t.Fatalf("%v: %v is not increasing", tc.seq, got)
			}
		}
	}
}
