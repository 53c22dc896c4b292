//! Symbols Debian's wasi-libc lacks.
