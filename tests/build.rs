//! The subxt API in this crate is generated from `metadata/lilypad.scale`, which rustc does not
//! track: rebuild the crate when the file changes.
fn main() {
	println!("cargo:rerun-if-changed=../metadata/lilypad.scale");
}
