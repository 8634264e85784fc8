// Package auxv rewrites the credential entries of the ELF auxiliary vector
// a program finds on its stack right after execve, so that its C library
// sees the emulated ids (Fix): the tracer calls it at the exec stop.
package auxv
