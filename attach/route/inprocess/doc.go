// Package inprocess is the in-process route (docs/in-process-route.md):
// a SIGSYS handler mapped into a traced process, which answers the calls
// a filter layer traps there, without a stop, by a fused plan's rule, and
// hands every other outcome to the supervisor as a notification.
//
// What is here: the handler's machine code (Code, built from
// csrc/handler_amd64.c), where it is mapped (HandlerAddr, DataAddr), the
// data page it reads (Data: the table of calls as templates, the image
// filter's place) and the layer filter's parameters (Layer). Mapping it
// into a process, and when, belongs to package attach.
package inprocess
