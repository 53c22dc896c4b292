//! Command-line interface: `lilypad-node [run options]` or one of the subcommands.
use polkadot_sdk::sc_cli;

/// Lilypad node.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A maintenance subcommand instead of running the node.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of a running node (`--dev`, `--chain`, ports, `--validator` ...).
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Dev chain only: put Alice's solver key in the keystore, so that this node's offchain
	/// worker matches jobs as Alice (once she holds the Solver role and a solver bond).
	#[arg(long)]
	pub solver: bool,
}

/// Maintenance subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate keys, inspect them, insert them into a node's keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Write a chain specification (`--raw` for the storage form a network is started from).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Write a chain specification without touching a database.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate one block.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a block as a chain specification.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Delete the chain's database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Roll the chain back by some blocks.
	Revert(sc_cli::RevertCmd),

	/// Show information about the database.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Measure the runtime's calls and write their weights (`benchmark pallet`); only in a node
	/// built with `--features runtime-benchmarks` (see `scripts/bench-weights.sh`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(polkadot_sdk::frame_benchmarking_cli::BenchmarkCmd),
}
