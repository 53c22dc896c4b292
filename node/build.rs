use substrate_build_script_utils::{generate_cargo_keys, rerun_if_git_head_changed};

fn main() {
	// `--version` reports the commit the node was built from: the one the project's scripts
	// pass in `SUBSTRATE_CLI_GIT_COMMIT_HASH` (they build a copy of the checkout, without its
	// `.git`: scripts/env.sh), else git's HEAD.
	generate_cargo_keys();
	println!("cargo:rerun-if-env-changed=SUBSTRATE_CLI_GIT_COMMIT_HASH");
	if std::env::var_os("SUBSTRATE_CLI_GIT_COMMIT_HASH").is_none() {
		rerun_if_git_head_changed();
	}
}
