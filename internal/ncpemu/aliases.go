package ncpemu

import "github.com/microseg/microseg/internal/ncpemu/layout"

// Config says how the emulated cluster looks (layout.Config: the port layout lives in a pure
// package that offline tools use without the emulator).
type Config = layout.Config

// The NSX API NCP runs in (Config.API).
const (
	APIManager = layout.APIManager
	APIPolicy  = layout.APIPolicy
)
