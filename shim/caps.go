package shim

// CapSet is a 64-bit capability mask, bit n being capability n.
type CapSet uint64

// Capability numbers used by the model (capabilities(7)).
const (
	CapChown          = 0
	CapDacOverride    = 1
	CapDacReadSearch  = 2
	CapFowner         = 3
	CapFsetid         = 4
	CapSetgid         = 6
	CapSetuid         = 7
	CapSetpcap        = 8
	CapLinuxImmutable = 9
	CapMknod          = 27
	CapMacOverride    = 32
)

// Has reports whether capability n is in s.
func (s CapSet) Has(n uint) bool { return n < 64 && s&(1<<n) != 0 }

// SubsetOf reports whether every capability of s is in o.
func (s CapSet) SubsetOf(o CapSet) bool { return s&^o == 0 }

// FSCaps are the filesystem capabilities that follow fsuid (capabilities(7):
// "If the filesystem user ID is changed from 0 to nonzero, then the following
// capabilities are cleared from the effective set: CAP_CHOWN,
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
// CAP_LINUX_IMMUTABLE (since Linux 2.6.30), CAP_MAC_OVERRIDE, and
// CAP_MKNOD (since Linux 2.6.30)").
const FSCaps CapSet = 1<<CapChown | 1<<CapDacOverride | 1<<CapDacReadSearch | 1<<CapFowner |
	1<<CapFsetid | 1<<CapLinuxImmutable | 1<<CapMacOverride | 1<<CapMknod

// AllCaps returns the mask of capabilities 0..last, last being
// /proc/sys/kernel/cap_last_cap.
func AllCaps(last uint) CapSet {
	if last >= 63 {
		return ^CapSet(0)
	}
	return CapSet(1)<<(last+1) - 1
}

// CapSets are a thread's five capability sets.
type CapSets struct {
	Effective, Permitted, Inheritable, Bounding, Ambient CapSet
}

// Securebits (include/uapi/linux/securebits.h): each flag's bit number; its
// lock is the next bit.
const (
	SecureNoroot              = 0
	SecureNoSetuidFixup       = 2
	SecureKeepCaps            = 4
	SecureNoCapAmbientRaise   = 6
	SecureExecRestrictFile    = 8
	SecureExecDenyInteractive = 10
)

// secureAllBits are the flags PR_SET_SECUREBITS accepts; secureAllLocks their locks.
const (
	secureAllBits = 1<<SecureNoroot | 1<<SecureNoSetuidFixup | 1<<SecureKeepCaps |
		1<<SecureNoCapAmbientRaise | 1<<SecureExecRestrictFile | 1<<SecureExecDenyInteractive
	secureAllLocks = secureAllBits << 1
)
