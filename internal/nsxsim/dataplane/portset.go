package dataplane

import "math/bits"

// portSet is a bitset over port indexes (positions in Dataplane.ports). Applied-to and group
// membership tests run on every rule of every trace, so they are a shift and a mask, not a map
// lookup.
type portSet []uint64

func newPortSet(nports int) portSet { return make(portSet, (nports+63)/64) }

func (s portSet) add(i int)      { s[i/64] |= 1 << (uint(i) % 64) }
func (s portSet) has(i int) bool { return s[i/64]&(1<<(uint(i)%64)) != 0 }
func (s portSet) addAll(o portSet) {
	for i := range o {
		s[i] |= o[i]
	}
}

// each calls f for every member in ascending order.
func (s portSet) each(f func(i int)) {
	for w, word := range s {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			f(w*64 + b)
			word &= word - 1
		}
	}
}
