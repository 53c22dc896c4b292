//! The pthread functions Rust's `std::thread` calls, which Debian 12's wasi-libc (single-threaded,
//! older than its pthread stubs) does not define: without them a module that links
//! candle and tokenizers (`chat.wasm`, `embed.wasm`) does not link.
//!
//! Nothing here starts a thread. `pthread_create` fails with `ENOSYS`, which `std` reports as
//! [`std::io::ErrorKind::Unsupported`]: rayon (pulled in by candle and tokenizers) then runs its
//! work on the calling thread, and candle's own pool has no workers where the CPU count is 1, as
//! it is under WASI. The attribute functions succeed, as `std` asserts they do before it tries.
use core::ffi::{c_int, c_void};

/// wasi-libc's `ENOSYS` (`__WASI_ERRNO_NOSYS`).
const ENOSYS: c_int = 52;

#[no_mangle]
extern "C" fn pthread_attr_init(_attr: *mut c_void) -> c_int {
	0
}

#[no_mangle]
extern "C" fn pthread_attr_setstacksize(_attr: *mut c_void, _size: usize) -> c_int {
	0
}

#[no_mangle]
extern "C" fn pthread_attr_destroy(_attr: *mut c_void) -> c_int {
	0
}

#[no_mangle]
extern "C" fn pthread_create(
	_thread: *mut c_void,
	_attr: *const c_void,
	_start: extern "C" fn(*mut c_void) -> *mut c_void,
	_arg: *mut c_void,
) -> c_int {
	ENOSYS
}

/// Only for a thread that was started: never called.
#[no_mangle]
extern "C" fn pthread_detach(_thread: *mut c_void) -> c_int {
	ENOSYS
}
