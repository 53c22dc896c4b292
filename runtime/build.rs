fn main() {
	// Builds the runtime's WASM blob (the code every node executes and governance upgrades).
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
