//! The runtime upgrade from the previous release, checked by try-runtime on a live market.
//!
//! Built only with the `try-runtime` feature, in a target directory of its own
//! (`scripts/try-runtime.sh`): there the migrations' `pre_upgrade`/`post_upgrade` and every
//! pallet's `try_state` exist.
//!
//! A dev chain runs a market through the runtime's calls until it holds a job in every stage,
//! a published module, provider, solver and mediator bonds and a pending slash. The state is
//! then put back the way the previous release (`runtime/previous-release`) keeps it: storage
//! versions and the jobs' layout as that release wrote them. `Executive::try_runtime_upgrade` runs every
//! migration with its pre- and post-checks, then every pallet's `try_state`; the chain then goes
//! on producing blocks, settling the jobs it holds, with `try_state` after each.
//!
//! A `VersionedMigration` does nothing on a state already at its target version, so the test
//! must start from the old version with old-layout data. When a release changes storage,
//! [`previous_release`] is rewritten to produce what the new previous release stores
//! (docs/migrations.md).
#![cfg(feature = "try-runtime")]
mod common;
use common::{market::*, *};
use lilypad_primitives::jobs::{JobId, Stage};
use lilypad_runtime::{
	AllPalletsWithSystem, Balance, Balances, Executive, Header, Jobs, Runtime, RuntimeEvent,
	RuntimeOrigin, System,
};
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::{
			fungible::MutateHold, GetStorageVersion, TryState, TryStateSelect, UpgradeCheckSelect,
		},
	},
	sp_keyring::Sr25519Keyring::*,
	sp_runtime::TryRuntimeError,
};

/// Blocks a slash waits for an appeal here.
const APPEAL_WINDOW: u32 = 8;

/// Runs blocks until `job` is in `stage` (at most `max` blocks), checking every pallet's
/// invariants after each.
fn run_until_stage(head: &mut Header, job: JobId, wanted: Stage, max: u32) {
	for _ in 0..max {
		if stage(job) == wanted {
			return;
		}
		in_block(head, || ());
		check_every_pallet();
	}
	assert_eq!(stage(job), wanted, "job {job} within {max} blocks");
}

fn check_every_pallet() {
	let now = System::block_number();
	if let Err(e) = AllPalletsWithSystem::try_state(now, TryStateSelect::All) {
		panic!("try_state at block {now}: {e:?}");
	}
}

/// The jobs left in each stage by [`live_market`].
struct Market {
	jobs: Vec<(Stage, JobId)>,
}

impl Market {
	fn job(&self, wanted: Stage) -> JobId {
		self.jobs.iter().find(|(s, _)| *s == wanted).expect("a job in every stage").1
	}
}

/// Runs a market until it holds a job in every stage; returns them.
fn live_market(head: &mut Header) -> Market {
	open_market(head, APPEAL_WINDOW, 8, true);

	// Jobs that settle before the upgrade.
	let [slashed, appealed, completed, expired, cancelled] = in_block(head, || {
		[
			submit_open(),
			submit_open(),
			submit_open(),
			submit(System::block_number() + 1),
			submit_open(),
		]
	});
	in_block(head, || {
		match_to_dave(&[slashed, appealed, completed]);
		assert_ok!(Jobs::cancel_job(signed(Charlie), cancelled));
	});
	in_block(head, || submit_result(completed));
	// Dave never returns the other two: both go to a pending slash; one is appealed.
	run_until_stage(head, appealed, Stage::SlashPending, 10);
	assert_eq!(stage(slashed), Stage::SlashPending);
	in_block(head, || {
		assert_ok!(Jobs::cancel_slash(RuntimeOrigin::root(), appealed));
	});
	run_until_stage(head, slashed, Stage::Slashed, APPEAL_WINDOW + 2);
	run_until_stage(head, completed, Stage::Completed, CHALLENGE_WINDOW + 2);

	// Jobs live at the upgrade.
	let [pending, mediated, with_result, matched, submitted] =
		in_block(head, || [(); 5].map(|_| submit_open()));
	in_block(head, || match_to_dave(&[pending, mediated, with_result]));
	in_block(head, || {
		submit_result(mediated);
		submit_result(with_result);
	});
	in_block(head, || {
		assert_ok!(Jobs::challenge(signed(Charlie), mediated));
	});
	// The next block draws a mediator: Alice, the only one, from the block's VRF output.
	in_block(head, || ());
	let mediation =
		pallet_jobs::Jobs::<Runtime>::get(mediated).unwrap().state.mediation().cloned().unwrap();
	assert_eq!(mediation.mediator, Some(who(Alice)), "Alice was drawn");
	run_until_stage(head, pending, Stage::SlashPending, 10);
	in_block(head, || match_to_dave(&[matched]));

	let jobs = vec![
		(Stage::Submitted, submitted),
		(Stage::Matched, matched),
		(Stage::ResultSubmitted, with_result),
		(Stage::InMediation, mediated),
		(Stage::SlashPending, pending),
		(Stage::Completed, completed),
		(Stage::Cancelled, cancelled),
		(Stage::Expired, expired),
		(Stage::Slashed, slashed),
		(Stage::SlashCancelled, appealed),
	];
	for (wanted, job) in &jobs {
		assert_eq!(stage(*job), *wanted, "job {job}");
	}
	assert_eq!(jobs.len(), Stage::ALL.len());
	Market { jobs }
}

/// The state as the previous release (`runtime/previous-release`, spec 108) keeps it. That
/// release stores a job's stage beside optional parts (the jobs pallet's storage version 1,
/// [`pallet_jobs::migrations::v1::Jobs`]); the other pallets store what this one does.
mod previous_release {
	use super::*;
	use codec::Encode;
	use lilypad_runtime::VERSION;
	use polkadot_sdk::{
		frame_support::{storage::unhashed, traits::StorageVersion},
		frame_system,
	};

	pub const SPEC_VERSION: u32 = 109;

	/// Rewrites the current state into the previous release's: module versions name no models,
	/// jobs have no payees fixed, offers list no models.
	pub fn restore() {
		StorageVersion::new(1).put::<pallet_registry::Pallet<Runtime>>();
		StorageVersion::new(2).put::<pallet_jobs::Pallet<Runtime>>();
		StorageVersion::new(0).put::<pallet_providers::Pallet<Runtime>>();
		// The chain last ran the previous release: the next block runs the migrations again
		// (they must then do nothing).
		let mut version = VERSION;
		version.spec_version = SPEC_VERSION;
		frame_system::LastRuntimeUpgrade::<Runtime>::put(
			frame_system::LastRuntimeUpgradeInfo::from(version),
		);
		let _ = pallet_jobs::Payees::<Runtime>::clear(u32::MAX, None);
		let _ = pallet_jobs::JobModels::<Runtime>::clear(u32::MAX, None);
		for (name, version, r) in pallet_registry::Versions::<Runtime>::iter().collect::<Vec<_>>() {
			assert!(r.manifest.models.is_empty(), "the previous release named no models");
			let m = r.manifest;
			let old = lilypad_primitives::registry::v1::VersionRecord {
				manifest: lilypad_primitives::registry::v1::VersionManifest {
					module: m.module,
					version: m.version,
					artifact: m.artifact,
					inputs: m.inputs,
					resources: m.resources,
					timeout_secs: m.timeout_secs,
					price_floor: m.price_floor,
					royalty: m.royalty,
					verification: m.verification,
					parent: m.parent,
				},
				publisher: r.publisher,
				signature: r.signature,
				published_at: r.published_at,
				price_floor: r.price_floor,
				deprecated: r.deprecated,
				depth: r.depth,
				lineage_royalty: r.lineage_royalty,
				active_jobs: r.active_jobs,
				forks: r.forks,
			};
			let key = pallet_registry::Versions::<Runtime>::hashed_key_for(&name, version);
			unhashed::put_raw(&key, &old.encode());
		}
		for (who, r) in pallet_providers::Offers::<Runtime>::iter().collect::<Vec<_>>() {
			let o = r.offer;
			let old = pallet_providers::migrations::v1::V0ProviderRecord::<Runtime> {
				offer: lilypad_primitives::providers::v1::Offer {
					resources: o.resources,
					modules: o.modules,
					default_price: o.default_price,
					prices: o.prices,
					capacity: o.capacity,
					credentials: o.credentials,
					endpoint: o.endpoint,
				},
				status: r.status,
				registered_at: r.registered_at,
				last_heartbeat: r.last_heartbeat,
				check_at: r.check_at,
				active_jobs: r.active_jobs,
			};
			let key = pallet_providers::Offers::<Runtime>::hashed_key_for(&who);
			unhashed::put_raw(&key, &old.encode());
		}
	}
}

/// What the migrations reported, if they ran: `(versions, live jobs, offers)`, each having
/// checked itself.
fn migrated() -> Option<(u32, u32, u32)> {
	let (mut versions, mut live, mut offers) = (None, None, None);
	for r in System::events() {
		match r.event {
			RuntimeEvent::Registry(pallet_registry::Event::VersionsMigrated {
				versions: v,
				checked,
			}) => {
				assert!(checked, "the registry migration's own check failed");
				versions = Some(v);
			}
			RuntimeEvent::Jobs(pallet_jobs::Event::PayeesFixed { live: l, checked }) => {
				assert!(checked, "the jobs migration's own check failed");
				live = Some(l);
			}
			RuntimeEvent::Providers(pallet_providers::Event::OffersMigrated {
				offers: o,
				checked,
			}) => {
				assert!(checked, "the providers migration's own check failed");
				offers = Some(o);
			}
			_ => {}
		}
	}
	match (versions, live, offers) {
		(None, None, None) => None,
		(Some(v), Some(l), Some(o)) => Some((v, l, o)),
		partial => panic!("only some migrations ran: {partial:?}"),
	}
}

#[test]
fn the_upgrade_migrates_a_live_market_and_every_check_passes() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		let market = live_market(&mut head);
		let jobs: Vec<_> = pallet_jobs::Jobs::<Runtime>::iter().collect();
		let payees: Vec<_> = pallet_jobs::Payees::<Runtime>::iter().collect();
		let live = jobs.iter().filter(|(_, j)| !j.stage().is_final()).count() as u32;
		let modules: Vec<_> = pallet_registry::Modules::<Runtime>::iter().collect();
		let versions: Vec<_> = pallet_registry::Versions::<Runtime>::iter().collect();
		let offers: Vec<_> = pallet_providers::Offers::<Runtime>::iter().collect();
		let free = |k: polkadot_sdk::sp_keyring::Sr25519Keyring| Balances::free_balance(who(k));
		let (charlie, dave, alice) = (free(Charlie), free(Dave), free(Alice));
		let issuance = Balances::total_issuance();

		previous_release::restore();

		let weight = Executive::try_runtime_upgrade(UpgradeCheckSelect::All)
			.unwrap_or_else(|e| panic!("the upgrade's checks failed: {e:?}"));
		assert!(weight.ref_time() > 0);
		let counts = (versions.len() as u32, live, offers.len() as u32);
		assert_eq!(migrated(), Some(counts));
		assert_eq!(pallet_registry::Pallet::<Runtime>::on_chain_storage_version(), 2);
		assert_eq!(pallet_jobs::Pallet::<Runtime>::on_chain_storage_version(), 3);
		assert_eq!(pallet_providers::Pallet::<Runtime>::on_chain_storage_version(), 1);
		// Every job, module, version and offer is as the market left it, each live job has the
		// payees it was submitted with, and no fund moved.
		assert_eq!(pallet_jobs::Jobs::<Runtime>::iter().collect::<Vec<_>>(), jobs);
		assert_eq!(pallet_jobs::Payees::<Runtime>::iter().collect::<Vec<_>>(), payees);
		assert_eq!(pallet_registry::Modules::<Runtime>::iter().collect::<Vec<_>>(), modules);
		assert_eq!(pallet_registry::Versions::<Runtime>::iter().collect::<Vec<_>>(), versions);
		assert_eq!(pallet_providers::Offers::<Runtime>::iter().collect::<Vec<_>>(), offers);
		assert_eq!((free(Charlie), free(Dave), free(Alice)), (charlie, dave, alice));
		assert_eq!(Balances::total_issuance(), issuance);

		// The first block of the new release runs the migrations again: they do nothing.
		in_block(&mut head, || ());
		assert_eq!(migrated(), None);
		assert_eq!(pallet_jobs::Pallet::<Runtime>::on_chain_storage_version(), 3);
		check_every_pallet();

		// The jobs the upgrade found live settle as they would have.
		run_until_stage(&mut head, market.job(Stage::ResultSubmitted), Stage::Completed, 20);
		run_until_stage(&mut head, market.job(Stage::SlashPending), Stage::Slashed, 20);
		run_until_stage(&mut head, market.job(Stage::Matched), Stage::SlashPending, 20);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_state_that_breaks_an_invariant_fails_the_upgrade_checks() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		live_market(&mut head);
		previous_release::restore();
		// Escrow held from Charlie that no job accounts for.
		let reason = lilypad_runtime::RuntimeHoldReason::Jobs(pallet_jobs::HoldReason::JobEscrow);
		assert_ok!(Balances::hold(&reason, &who(Charlie), 1));
		assert_eq!(
			Executive::try_runtime_upgrade(UpgradeCheckSelect::All),
			Err(TryRuntimeError::Other("escrow differs from its hold"))
		);
	});
}
