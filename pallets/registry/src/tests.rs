//! One test per rule of the registry.
use crate::{mock::*, *};
use lilypad_primitives::{
	identity::Role,
	registry::{manifest_signing_payload, Delivery, ParamType, Resources},
};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold},
	},
	sp_core::{sr25519, Pair},
	sp_runtime::{DispatchError, Perbill, TokenError},
};

fn name(s: &str) -> ModuleName {
	s.as_bytes().to_vec().try_into().unwrap()
}

fn v(major: u16, minor: u16, patch: u16) -> SemVer {
	SemVer::new(major, minor, patch)
}

/// What a job on `module` would take from the registry; it must be published.
fn terms(module: &ModuleRef) -> JobTermsOf<Test> {
	Registry::job_terms(module).expect("the version is published")
}

fn mref(module: &str, version: SemVer) -> ModuleRef {
	ModuleRef { name: name(module), version }
}

fn param(n: &str, kind: ParamType, default: Option<&str>, required: bool) -> InputParam {
	InputParam {
		name: n.as_bytes().to_vec().try_into().unwrap(),
		kind,
		default: default.map(|d| d.as_bytes().to_vec().try_into().unwrap()),
		required,
		delivery: Delivery::Env,
	}
}

fn manifest(module: &str, version: SemVer) -> ManifestOf<Test> {
	VersionManifest {
		module: name(module),
		version,
		artifact: Artifact::Wasm { digest: [7; 32], size: 1_234 },
		inputs: vec![param("Message", ParamType::Text, None, true)].try_into().unwrap(),
		resources: Resources { cpu_millicores: 500, ram_mib: 64, ..Default::default() },
		timeout_secs: 60,
		price_floor: 20,
		royalty: Perbill::from_percent(5),
		verification: VerificationPolicy::Deterministic,
		parent: None,
		models: Default::default(),
	}
}

fn sign(signer: u8, m: &ManifestOf<Test>) -> sr25519::Signature {
	key(signer).sign(&Registry::signing_payload(m))
}

fn signed(n: u8) -> RuntimeOrigin {
	RuntimeOrigin::signed(account(n))
}

fn provider_with_module(owner: u8, module: &str) {
	assert_ok!(Halo::register_role(signed(owner), Role::ModuleProvider));
	assert_ok!(Registry::publish_module(signed(owner), name(module)));
}

/// Publishes `m` from its owner `owner`, signed by `owner`'s key.
fn publish(owner: u8, m: ManifestOf<Test>) -> polkadot_sdk::sp_runtime::DispatchResult {
	let sig = sign(owner, &m);
	Registry::publish_version(signed(owner), m, key(owner).public(), sig)
}

fn held(n: u8) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModuleDeposit.into(), &account(n))
}

/// Runs `f`, then checks the pallet's invariants and that no LILY appeared or vanished.
fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		f();
		Registry::do_try_state().expect("invariants hold");
		assert_eq!(Balances::total_issuance(), issuance, "funds are conserved");
	});
}

#[test]
fn a_module_provider_publishes_a_module_and_pays_its_deposit() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		System::assert_last_event(
			Event::ModulePublished {
				module: name("cowsay"),
				owner: account(ALICE),
				deposit: MODULE_DEPOSIT,
			}
			.into(),
		);
		assert_eq!(held(ALICE), MODULE_DEPOSIT);
		assert_eq!(Balances::balance(&account(ALICE)), ENDOWMENT - MODULE_DEPOSIT);
		let details = Modules::<Test>::get(name("cowsay")).unwrap();
		assert_eq!(details.owner, account(ALICE));
		assert!(details.versions.is_empty());
	});
}

#[test]
fn publishing_a_module_needs_the_module_provider_role() {
	test(|| {
		assert_noop!(
			Registry::publish_module(signed(ALICE), name("cowsay")),
			Error::<Test>::NotModuleProvider
		);
	});
}

#[test]
fn module_names_must_be_slugs() {
	test(|| {
		assert_ok!(Halo::register_role(signed(ALICE), Role::ModuleProvider));
		for bad in ["Cowsay", "cow_say", "-cow", "cow--say", ""] {
			assert_noop!(
				Registry::publish_module(signed(ALICE), name(bad)),
				Error::<Test>::InvalidModuleName
			);
		}
	});
}

#[test]
fn a_module_name_is_taken_once() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(Halo::register_role(signed(BOB), Role::ModuleProvider));
		assert_noop!(
			Registry::publish_module(signed(BOB), name("cowsay")),
			Error::<Test>::ModuleExists
		);
	});
}

#[test]
fn publishing_needs_the_deposit() {
	test(|| {
		let poor = 9;
		assert_ok!(Halo::register_role(signed(poor), Role::ModuleProvider));
		assert_noop!(
			Registry::publish_module(signed(poor), name("cowsay")),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn the_owner_publishes_a_signed_version() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		let sig = sign(ALICE, &m);
		assert_ok!(Registry::publish_version(signed(ALICE), m.clone(), key(ALICE).public(), sig));
		System::assert_last_event(
			Event::VersionPublished {
				module: name("cowsay"),
				version: v(0, 1, 0),
				publisher: account(ALICE),
				parent: None,
			}
			.into(),
		);
		let record = Versions::<Test>::get(name("cowsay"), v(0, 1, 0)).unwrap();
		assert_eq!(record.manifest, m);
		assert_eq!(record.publisher, account(ALICE));
		assert_eq!(record.signature, sig);
		assert_eq!(record.price_floor, 20);
		assert_eq!((record.depth, record.lineage_royalty), (0, Perbill::from_percent(5)));
		assert_eq!(held(ALICE), MODULE_DEPOSIT + VERSION_DEPOSIT);
		assert_eq!(
			Modules::<Test>::get(name("cowsay")).unwrap().deposit,
			MODULE_DEPOSIT + VERSION_DEPOSIT
		);
		// Anyone can re-check the stored signature against the stored manifest.
		let payload = manifest_signing_payload(&System::block_hash(0), &record.manifest);
		assert!(sr25519::Pair::verify(&record.signature, payload, &key(ALICE).public()));
	});
}

#[test]
fn a_delegate_publishes_for_its_organisation_with_its_own_key() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		let m = manifest("cowsay", v(0, 1, 0));
		let sig = sign(BOB, &m);
		assert_ok!(Registry::publish_version(signed(BOB), m, key(BOB).public(), sig));
		let record = Versions::<Test>::get(name("cowsay"), v(0, 1, 0)).unwrap();
		assert_eq!(record.publisher, account(BOB));
		// The deposit comes from the organisation, not the operator.
		assert_eq!(held(ALICE), MODULE_DEPOSIT + VERSION_DEPOSIT);
		assert_eq!(held(BOB), 0);
	});
}

#[test]
fn versions_of_unknown_modules_are_refused() {
	test(|| {
		assert_noop!(publish(ALICE, manifest("cowsay", v(0, 1, 0))), Error::<Test>::ModuleNotFound);
	});
}

#[test]
fn only_the_owner_or_a_delegate_publishes_versions() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		let sig = sign(ALICE, &m);
		// BOB submits ALICE's validly signed manifest: BOB may not act for ALICE.
		assert_noop!(
			Registry::publish_version(signed(BOB), m, key(ALICE).public(), sig),
			Error::<Test>::NotOwner
		);
	});
}

#[test]
fn a_signature_by_the_wrong_key_is_refused() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		let forged = sign(CHARLIE, &m);
		assert_noop!(
			Registry::publish_version(signed(ALICE), m, key(ALICE).public(), forged),
			Error::<Test>::BadSignature
		);
	});
}

#[test]
fn a_tampered_manifest_is_refused() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		let sig = sign(ALICE, &m);
		let tampered = [
			{
				let mut t = m.clone();
				t.artifact = Artifact::Wasm { digest: [8; 32], size: 1_234 };
				t
			},
			{
				let mut t = m.clone();
				t.royalty = Perbill::from_percent(6);
				t
			},
			{
				let mut t = m.clone();
				t.version = v(0, 1, 1);
				t
			},
		];
		for t in tampered {
			assert_noop!(
				Registry::publish_version(signed(ALICE), t, key(ALICE).public(), sig),
				Error::<Test>::BadSignature
			);
		}
	});
}

#[test]
fn a_signature_made_for_another_chain_is_refused() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		let other_genesis = [0xAB; 32];
		assert_ne!(System::block_hash(0).0, other_genesis);
		let replayed = key(ALICE).sign(&manifest_signing_payload(&other_genesis, &m));
		assert_noop!(
			Registry::publish_version(signed(ALICE), m, key(ALICE).public(), replayed),
			Error::<Test>::BadSignature
		);
	});
}

#[test]
fn a_signer_who_is_not_a_delegate_is_refused() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let m = manifest("cowsay", v(0, 1, 0));
		// A valid signature, by a key that does not speak for ALICE.
		let sig = sign(CHARLIE, &m);
		assert_noop!(
			Registry::publish_version(signed(ALICE), m, key(CHARLIE).public(), sig),
			Error::<Test>::SignerNotAuthorized
		);
	});
}

#[test]
fn a_revoked_delegate_can_no_longer_sign() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_ok!(Halo::revoke_delegation(signed(ALICE), account(BOB)));
		let m = manifest("cowsay", v(0, 1, 0));
		let sig = sign(BOB, &m);
		assert_noop!(
			Registry::publish_version(signed(ALICE), m, key(BOB).public(), sig),
			Error::<Test>::SignerNotAuthorized
		);
	});
}

/// A change that breaks one rule of what it changes.
type Break<T> = fn(&mut T);

#[test]
fn manifests_breaking_a_rule_are_refused_with_its_name() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let base = manifest("cowsay", v(0, 1, 0));
		let cases: Vec<(Break<ManifestOf<Test>>, Error<Test>)> = vec![
			(
				|m| {
					m.inputs =
						vec![param("bad-name", ParamType::Text, None, true)].try_into().unwrap()
				},
				Error::InvalidParamName,
			),
			(
				|m| {
					m.inputs = vec![
						param("A", ParamType::Text, None, true),
						param("A", ParamType::Integer, None, false),
					]
					.try_into()
					.unwrap()
				},
				Error::DuplicateParam,
			),
			(
				|m| {
					m.inputs =
						vec![param("A", ParamType::Text, Some("x"), true)].try_into().unwrap()
				},
				Error::RequiredParamWithDefault,
			),
			(
				|m| {
					m.inputs =
						vec![param("N", ParamType::Boolean, Some("1"), false)].try_into().unwrap()
				},
				Error::DefaultTypeMismatch,
			),
			(|m| m.resources.ram_mib = 0, Error::InvalidResources),
			(|m| m.resources.vram_mib = 8_192, Error::InvalidResources),
			(|m| m.timeout_secs = 0, Error::ZeroTimeout),
			(|m| m.timeout_secs = 3_601, Error::TimeoutTooLong),
			(
				|m| m.verification = VerificationPolicy::Sampled { p: Perbill::zero() },
				Error::ZeroSamplingProbability,
			),
			(|m| m.artifact = Artifact::Wasm { digest: [1; 32], size: 0 }, Error::EmptyArtifact),
		];
		for (break_rule, error) in cases {
			let mut m = base.clone();
			break_rule(&mut m);
			assert_noop!(publish(ALICE, m), error);
		}
		// A GPU module with VRAM and a Docker artifact is fine.
		let mut m = base;
		m.resources.gpus = 1;
		m.resources.vram_mib = 8_192;
		m.artifact = Artifact::Docker { archive_digest: [1; 32], config_digest: [2; 32] };
		m.verification = VerificationPolicy::Sampled { p: Perbill::from_percent(10) };
		assert_ok!(publish(ALICE, m));
	});
}

#[test]
fn a_version_is_published_once() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		let mut again = manifest("cowsay", v(0, 1, 0));
		again.price_floor = 99;
		assert_noop!(publish(ALICE, again), Error::<Test>::VersionExists);
	});
}

#[test]
fn versions_per_module_are_bounded() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		for patch in 0..MAX_VERSIONS as u16 {
			assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, patch))));
		}
		assert_noop!(
			publish(ALICE, manifest("cowsay", v(0, 2, 0))),
			Error::<Test>::TooManyVersions
		);
	});
}

#[test]
fn a_fork_names_an_existing_parent() {
	test(|| {
		provider_with_module(BOB, "fork");
		let mut m = manifest("fork", v(1, 0, 0));
		m.parent = Some(mref("cowsay", v(0, 1, 0)));
		assert_noop!(publish(BOB, m), Error::<Test>::ParentNotFound);
	});
}

#[test]
fn a_fork_records_its_lineage_and_pays_royalties_up_it() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		let mut parent = manifest("cowsay", v(0, 1, 0));
		parent.royalty = Perbill::from_percent(10);
		assert_ok!(publish(ALICE, parent));
		provider_with_module(BOB, "cowsay-plus");
		let mut fork = manifest("cowsay-plus", v(1, 0, 0));
		fork.parent = Some(mref("cowsay", v(0, 1, 0)));
		assert_ok!(publish(BOB, fork));
		System::assert_last_event(
			Event::VersionPublished {
				module: name("cowsay-plus"),
				version: v(1, 0, 0),
				publisher: account(BOB),
				parent: Some(mref("cowsay", v(0, 1, 0))),
			}
			.into(),
		);
		let record = Versions::<Test>::get(name("cowsay-plus"), v(1, 0, 0)).unwrap();
		assert_eq!((record.depth, record.lineage_royalty), (1, Perbill::from_percent(15)));
		assert_eq!(Versions::<Test>::get(name("cowsay"), v(0, 1, 0)).unwrap().forks, 1);
		assert_eq!(
			terms(&mref("cowsay-plus", v(1, 0, 0))).payees.into_inner(),
			vec![
				(account(BOB), Perbill::from_percent(5)),
				(account(ALICE), Perbill::from_percent(10))
			]
		);
		assert_eq!(
			terms(&mref("cowsay", v(0, 1, 0))).payees.into_inner(),
			vec![(account(ALICE), Perbill::from_percent(10))]
		);
	});
}

#[test]
fn royalties_along_a_lineage_stay_within_the_cap() {
	test(|| {
		provider_with_module(ALICE, "base");
		let mut parent = manifest("base", v(0, 1, 0));
		parent.royalty = Perbill::from_percent(15);
		assert_ok!(publish(ALICE, parent));
		provider_with_module(BOB, "greedy");
		let mut fork = manifest("greedy", v(1, 0, 0));
		fork.parent = Some(mref("base", v(0, 1, 0)));
		fork.royalty = Perbill::from_percent(6);
		assert_noop!(publish(BOB, fork.clone()), Error::<Test>::RoyaltyCapExceeded);
		// Exactly at the 20% cap is allowed.
		fork.royalty = Perbill::from_percent(5);
		assert_ok!(publish(BOB, fork));
		// A royalty over the cap on its own is refused too.
		let mut alone = manifest("base", v(0, 2, 0));
		alone.royalty = Perbill::from_percent(21);
		assert_noop!(publish(ALICE, alone), Error::<Test>::RoyaltyCapExceeded);
	});
}

#[test]
fn a_lower_governed_cap_applies_and_a_higher_one_stops_at_the_ceiling() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		RoyaltyCap::set(Perbill::from_percent(4));
		assert_noop!(
			publish(ALICE, manifest("cowsay", v(0, 1, 0))),
			Error::<Test>::RoyaltyCapExceeded
		);
		RoyaltyCap::set(Perbill::from_percent(90));
		let mut greedy = manifest("cowsay", v(0, 1, 0));
		greedy.royalty = Perbill::from_percent(21);
		assert_noop!(publish(ALICE, greedy), Error::<Test>::RoyaltyCapExceeded);
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		// A job submitted now is paid at the cap in force: lowered to 2%, a 5% royalty pays 2%.
		RoyaltyCap::set(Perbill::from_percent(2));
		assert_eq!(
			terms(&mref("cowsay", v(0, 1, 0))).payees.into_inner(),
			vec![(account(ALICE), Perbill::from_percent(2))]
		);
	});
}

#[test]
fn lineage_depth_is_bounded() {
	test(|| {
		provider_with_module(ALICE, "chain");
		let royalty = Perbill::from_percent(1);
		let mut prev: Option<ModuleRef> = None;
		for minor in 0..=MAX_DEPTH as u16 {
			let mut m = manifest("chain", v(0, minor, 0));
			m.royalty = royalty;
			m.parent = prev.clone();
			assert_ok!(publish(ALICE, m));
			prev = Some(mref("chain", v(0, minor, 0)));
		}
		let mut too_deep = manifest("chain", v(1, 0, 0));
		too_deep.royalty = royalty;
		too_deep.parent = prev;
		assert_noop!(publish(ALICE, too_deep), Error::<Test>::LineageTooDeep);
	});
}

#[test]
fn a_deprecated_version_takes_no_new_jobs_but_settles_old_ones() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		let m = mref("cowsay", v(0, 1, 0));
		assert_ok!(Registry::acquire(&m));
		assert_ok!(Registry::deprecate_version(signed(ALICE), name("cowsay"), v(0, 1, 0)));
		System::assert_last_event(
			Event::VersionDeprecated { module: name("cowsay"), version: v(0, 1, 0) }.into(),
		);
		assert_noop!(Registry::acquire(&m), Error::<Test>::VersionDeprecated);
		assert_eq!(Registry::version(&m).unwrap().active_jobs, 1);
		Registry::release(&m);
		assert_eq!(Registry::version(&m).unwrap().active_jobs, 0);
	});
}

#[test]
fn deprecation_is_for_the_owner_or_a_delegate_and_happens_once() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		assert_noop!(
			Registry::deprecate_version(signed(BOB), name("cowsay"), v(0, 1, 0)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::deprecate_version(signed(ALICE), name("cowsay"), v(9, 9, 9)),
			Error::<Test>::VersionNotFound
		);
		assert_noop!(
			Registry::deprecate_version(signed(ALICE), name("nope"), v(0, 1, 0)),
			Error::<Test>::ModuleNotFound
		);
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_ok!(Registry::deprecate_version(signed(BOB), name("cowsay"), v(0, 1, 0)));
		assert_noop!(
			Registry::deprecate_version(signed(ALICE), name("cowsay"), v(0, 1, 0)),
			Error::<Test>::AlreadyDeprecated
		);
	});
}

#[test]
fn jobs_reference_published_versions_only() {
	test(|| {
		assert_noop!(
			Registry::acquire(&mref("cowsay", v(0, 1, 0))),
			Error::<Test>::VersionNotFound
		);
		assert!(Registry::job_terms(&mref("cowsay", v(0, 1, 0))).is_none());
	});
}

#[test]
fn the_owner_or_a_delegate_sets_the_price_and_the_signed_manifest_stays() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		assert_ok!(Registry::set_price(signed(ALICE), name("cowsay"), v(0, 1, 0), 55));
		System::assert_last_event(
			Event::PriceSet { module: name("cowsay"), version: v(0, 1, 0), price_floor: 55 }.into(),
		);
		let record = Versions::<Test>::get(name("cowsay"), v(0, 1, 0)).unwrap();
		assert_eq!(record.price_floor, 55);
		assert_eq!(record.manifest.price_floor, 20);
		assert_noop!(
			Registry::set_price(signed(BOB), name("cowsay"), v(0, 1, 0), 1),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::set_price(signed(ALICE), name("cowsay"), v(0, 2, 0), 1),
			Error::<Test>::VersionNotFound
		);
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_ok!(Registry::set_price(signed(BOB), name("cowsay"), v(0, 1, 0), 60));
	});
}

#[test]
fn ownership_moves_with_the_deposit() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		assert_ok!(Halo::register_role(signed(BOB), Role::ModuleProvider));
		assert_ok!(Registry::transfer_ownership(signed(ALICE), name("cowsay"), account(BOB)));
		System::assert_last_event(
			Event::OwnershipTransferred {
				module: name("cowsay"),
				from: account(ALICE),
				to: account(BOB),
			}
			.into(),
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(held(BOB), MODULE_DEPOSIT + VERSION_DEPOSIT);
		assert_eq!(
			Balances::total_balance(&account(ALICE)),
			ENDOWMENT - MODULE_DEPOSIT - VERSION_DEPOSIT
		);
		// The new owner now publishes; the old one no longer may.
		assert_ok!(publish(BOB, manifest("cowsay", v(0, 2, 0))));
		assert_noop!(publish(ALICE, manifest("cowsay", v(0, 3, 0))), Error::<Test>::NotOwner);
	});
}

#[test]
fn only_the_owner_transfers_to_another_module_provider() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_noop!(
			Registry::transfer_ownership(signed(BOB), name("cowsay"), account(BOB)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::transfer_ownership(signed(ALICE), name("cowsay"), account(ALICE)),
			Error::<Test>::AlreadyOwner
		);
		assert_noop!(
			Registry::transfer_ownership(signed(ALICE), name("cowsay"), account(CHARLIE)),
			Error::<Test>::NotModuleProvider
		);
		assert_noop!(
			Registry::transfer_ownership(signed(ALICE), name("nope"), account(CHARLIE)),
			Error::<Test>::ModuleNotFound
		);
	});
}

#[test]
fn retiring_removes_everything_and_returns_the_deposit() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		// A fork inside the module goes with it.
		let mut inner = manifest("cowsay", v(0, 2, 0));
		inner.parent = Some(mref("cowsay", v(0, 1, 0)));
		assert_ok!(publish(ALICE, inner));
		assert_ok!(Registry::retire_module(signed(ALICE), name("cowsay")));
		System::assert_last_event(
			Event::ModuleRetired {
				module: name("cowsay"),
				owner: account(ALICE),
				deposit: MODULE_DEPOSIT + 2 * VERSION_DEPOSIT,
			}
			.into(),
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&account(ALICE)), ENDOWMENT);
		assert!(!Modules::<Test>::contains_key(name("cowsay")));
		assert_eq!(Versions::<Test>::iter_prefix(name("cowsay")).count(), 0);
		// The name is free again.
		assert_ok!(Registry::publish_module(signed(ALICE), name("cowsay")));
	});
}

#[test]
fn a_version_with_unsettled_jobs_keeps_its_module() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		assert_ok!(Registry::acquire(&mref("cowsay", v(0, 1, 0))));
		assert_noop!(
			Registry::retire_module(signed(ALICE), name("cowsay")),
			Error::<Test>::VersionInUse
		);
		Registry::release(&mref("cowsay", v(0, 1, 0)));
		assert_ok!(Registry::retire_module(signed(ALICE), name("cowsay")));
	});
}

#[test]
fn a_version_forked_by_another_module_keeps_its_module() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		provider_with_module(BOB, "fork");
		let mut fork = manifest("fork", v(1, 0, 0));
		fork.parent = Some(mref("cowsay", v(0, 1, 0)));
		assert_ok!(publish(BOB, fork));
		assert_noop!(
			Registry::retire_module(signed(ALICE), name("cowsay")),
			Error::<Test>::VersionHasForks
		);
		// Once the fork's module is retired, the parent's fork count drops and it may go.
		assert_ok!(Registry::retire_module(signed(BOB), name("fork")));
		assert_eq!(Versions::<Test>::get(name("cowsay"), v(0, 1, 0)).unwrap().forks, 0);
		assert_ok!(Registry::retire_module(signed(ALICE), name("cowsay")));
	});
}

#[test]
fn only_the_owner_retires_a_module() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_noop!(Registry::retire_module(signed(BOB), name("cowsay")), Error::<Test>::NotOwner);
		assert_noop!(
			Registry::retire_module(signed(ALICE), name("nope")),
			Error::<Test>::ModuleNotFound
		);
	});
}

#[test]
fn modules_are_read_back_one_by_one_and_page_by_page() {
	test(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 2, 0))));
		let info = Registry::module_info(name("cowsay")).unwrap();
		assert_eq!(info.owner, account(ALICE));
		assert_eq!(
			info.versions.iter().map(|r| r.manifest.version).collect::<Vec<_>>(),
			vec![v(0, 1, 0), v(0, 2, 0)]
		);
		assert!(Registry::module_info(name("nope")).is_none());

		for m in ["a", "b", "c", "d", "e"] {
			assert_ok!(Registry::publish_module(signed(ALICE), name(m)));
		}
		let mut seen = Vec::new();
		let mut after = None;
		loop {
			let page = Registry::modules_page(after.clone(), 2);
			assert!(page.len() <= 2);
			let Some(last) = page.last() else { break };
			after = Some(last.name.clone());
			seen.extend(page.into_iter().map(|m| m.name));
		}
		seen.sort();
		let mut all: Vec<_> = ["a", "b", "c", "cowsay", "d", "e"].map(name).to_vec();
		all.sort();
		assert_eq!(seen, all, "every module exactly once");
	});
}

#[test]
fn try_state_catches_a_deposit_out_of_step() {
	new_test_ext().execute_with(|| {
		provider_with_module(ALICE, "cowsay");
		Modules::<Test>::mutate(name("cowsay"), |m| m.as_mut().unwrap().deposit += 1);
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_royalty_over_the_cap() {
	new_test_ext().execute_with(|| {
		provider_with_module(ALICE, "cowsay");
		assert_ok!(publish(ALICE, manifest("cowsay", v(0, 1, 0))));
		Versions::<Test>::mutate(name("cowsay"), v(0, 1, 0), |r| {
			let r = r.as_mut().unwrap();
			r.manifest.royalty = Perbill::from_percent(50);
			r.lineage_royalty = Perbill::from_percent(50);
		});
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn unsigned_calls_are_refused() {
	test(|| {
		assert_noop!(
			Registry::publish_module(RuntimeOrigin::none(), name("cowsay")),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_v1_migration_reprices_module_deposits_and_keeps_every_version() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	test(|| {
		provider_with_module(1, "echo");
		assert_ok!(publish(1, manifest("echo", v(1, 0, 0))));
		assert_ok!(publish(1, manifest("echo", v(1, 1, 0))));
		provider_with_module(2, "other");
		let deposit = MODULE_DEPOSIT + 2 * VERSION_DEPOSIT;
		assert_eq!(held(1), deposit);
		// A chain from before version 1, whose versions paid a dearer deposit.
		StorageVersion::new(0).put::<Registry>();
		VersionStorageDeposit::set(4);
		let (before1, before2) =
			(Modules::<Test>::get(name("echo")).unwrap(), Modules::<Test>::get(name("other")));
		let free1 = Balances::free_balance(account(1));

		crate::migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Registry::on_chain_storage_version(), 1);
		let after1 = Modules::<Test>::get(name("echo")).unwrap();
		assert_eq!(after1.deposit, MODULE_DEPOSIT + 2 * 4);
		assert_eq!((&after1.owner, &after1.versions), (&before1.owner, &before1.versions));
		assert_eq!(Modules::<Test>::get(name("other")), before2, "no versions: no change");
		assert_eq!(held(1), MODULE_DEPOSIT + 2 * 4);
		assert_eq!(Balances::free_balance(account(1)), free1 + 2 * (VERSION_DEPOSIT - 4));
		System::assert_last_event(
			Event::DepositsRepriced {
				modules: 2,
				versions: 2,
				released: 2 * (VERSION_DEPOSIT - 4),
				checked: true,
			}
			.into(),
		);

		// Once only.
		VersionStorageDeposit::set(1);
		crate::migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(held(1), MODULE_DEPOSIT + 2 * 4);
		VersionStorageDeposit::set(VERSION_DEPOSIT);
	});
}

// Models.

fn model(model: &str, version: SemVer) -> ModelManifest {
	use lilypad_primitives::models::{Weights, WeightsFormat, WeightsLayout};
	ModelManifest {
		model: name(model),
		version,
		weights: Weights {
			digest: [model.len() as u8; 32],
			size: 270_000_000,
			layout: WeightsLayout::File,
			format: WeightsFormat::Gguf,
		},
		licence: b"Apache-2.0".to_vec().try_into().unwrap(),
		royalty: Perbill::from_percent(3),
		parent: None,
	}
}

fn sign_model(signer: u8, m: &ModelManifest) -> sr25519::Signature {
	key(signer).sign(&Registry::model_signing_payload(m))
}

/// Publishes `m` from `owner`, signed by `owner`'s key.
fn publish_model(owner: u8, m: ModelManifest) -> polkadot_sdk::sp_runtime::DispatchResult {
	let sig = sign_model(owner, &m);
	Registry::publish_model(signed(owner), m, key(owner).public(), sig)
}

fn provider(n: u8) {
	assert_ok!(Halo::register_role(signed(n), Role::ModuleProvider));
}

#[test]
fn a_model_is_published_signed_and_its_first_version_registers_it() {
	test(|| {
		provider(ALICE);
		let m = model("smollm2", v(1, 0, 0));
		let sig = sign_model(ALICE, &m);
		assert_ok!(Registry::publish_model(signed(ALICE), m.clone(), key(ALICE).public(), sig));
		System::assert_last_event(
			Event::ModelPublished {
				model: name("smollm2"),
				version: v(1, 0, 0),
				owner: account(ALICE),
				publisher: account(ALICE),
				parent: None,
			}
			.into(),
		);
		let record = ModelVersions::<Test>::get(name("smollm2"), v(1, 0, 0)).unwrap();
		assert_eq!((record.manifest.clone(), record.signature), (m, sig));
		assert_eq!((record.depth, record.lineage_royalty), (0, Perbill::from_percent(3)));
		assert_eq!(held(ALICE), MODULE_DEPOSIT + VERSION_DEPOSIT);
		// Anyone can re-check the stored signature.
		let payload = lilypad_primitives::models::model_signing_payload(
			&System::block_hash(0),
			&record.manifest,
		);
		assert!(sr25519::Pair::verify(&record.signature, payload, &key(ALICE).public()));
		// A second version pays a version deposit only.
		assert_ok!(publish_model(ALICE, model("smollm2", v(1, 1, 0))));
		assert_eq!(held(ALICE), MODULE_DEPOSIT + 2 * VERSION_DEPOSIT);
		let info = Registry::model_info(name("smollm2")).unwrap();
		assert_eq!((info.owner, info.versions.len()), (account(ALICE), 2));
	});
}

#[test]
fn model_signatures_are_checked_like_module_versions() {
	test(|| {
		provider(ALICE);
		let m = model("smollm2", v(1, 0, 0));
		// The wrong key.
		assert_noop!(
			Registry::publish_model(
				signed(ALICE),
				m.clone(),
				key(ALICE).public(),
				sign_model(CHARLIE, &m)
			),
			Error::<Test>::BadSignature
		);
		// A tampered field: each of weights, licence, royalty.
		let sig = sign_model(ALICE, &m);
		for tamper in [
			|t: &mut ModelManifest| t.weights.digest[0] ^= 1,
			|t: &mut ModelManifest| t.licence = b"MIT".to_vec().try_into().unwrap(),
			|t: &mut ModelManifest| t.royalty = Perbill::from_percent(4),
		] {
			let mut t = m.clone();
			tamper(&mut t);
			assert_noop!(
				Registry::publish_model(signed(ALICE), t, key(ALICE).public(), sig),
				Error::<Test>::BadSignature
			);
		}
		// Another chain's genesis.
		let other =
			key(ALICE).sign(&lilypad_primitives::models::model_signing_payload(&[0xAB; 32], &m));
		assert_noop!(
			Registry::publish_model(signed(ALICE), m.clone(), key(ALICE).public(), other),
			Error::<Test>::BadSignature
		);
		// A module version's signature over the same chain is no model signature.
		let module_sig = sign(ALICE, &manifest("cowsay", v(0, 1, 0)));
		assert_noop!(
			Registry::publish_model(signed(ALICE), m.clone(), key(ALICE).public(), module_sig),
			Error::<Test>::BadSignature
		);
		// A valid signature by a key that does not speak for ALICE.
		assert_noop!(
			Registry::publish_model(
				signed(ALICE),
				m.clone(),
				key(CHARLIE).public(),
				sign_model(CHARLIE, &m)
			),
			Error::<Test>::SignerNotAuthorized
		);
		// A delegate's key does.
		assert_ok!(Halo::delegate(signed(ALICE), account(BOB)));
		assert_ok!(Registry::publish_model(
			signed(ALICE),
			m.clone(),
			key(BOB).public(),
			sign_model(BOB, &m)
		));
		assert_eq!(
			ModelVersions::<Test>::get(name("smollm2"), v(1, 0, 0)).unwrap().publisher,
			account(BOB)
		);
	});
}

#[test]
fn model_manifests_breaking_a_rule_are_refused_with_its_name() {
	test(|| {
		let m = model("smollm2", v(1, 0, 0));
		assert_noop!(publish_model(ALICE, m.clone()), Error::<Test>::NotModuleProvider);
		provider(ALICE);
		let mut bad = m.clone();
		bad.model = name("SmolLM2");
		assert_noop!(publish_model(ALICE, bad), Error::<Test>::InvalidModelName);
		let mut bad = m.clone();
		bad.weights.size = 0;
		assert_noop!(publish_model(ALICE, bad), Error::<Test>::EmptyWeights);
		let mut bad = m.clone();
		bad.licence = b"Apache 2.0".to_vec().try_into().unwrap();
		assert_noop!(publish_model(ALICE, bad), Error::<Test>::InvalidLicence);
		let mut bad = m.clone();
		bad.parent = Some(mref("smollm2", v(0, 9, 0)));
		assert_noop!(publish_model(ALICE, bad), Error::<Test>::OwnParent);
		assert_ok!(publish_model(ALICE, m.clone()));
		assert_noop!(publish_model(ALICE, m), Error::<Test>::ModelVersionExists);
		for minor in 1..MAX_VERSIONS as u16 {
			assert_ok!(publish_model(ALICE, model("smollm2", v(1, minor, 0))));
		}
		assert_noop!(
			publish_model(ALICE, model("smollm2", v(2, 0, 0))),
			Error::<Test>::TooManyVersions
		);
		// Another provider may not publish versions of ALICE's model.
		provider(BOB);
		assert_noop!(publish_model(BOB, model("smollm2", v(3, 0, 0))), Error::<Test>::NotOwner);
		// Not enough for the deposits.
		let poor = 9;
		provider(poor);
		assert_noop!(publish_model(poor, model("other", v(1, 0, 0))), TokenError::FundsUnavailable);
	});
}

#[test]
fn a_derived_model_records_its_lineage_within_depth_and_cap() {
	test(|| {
		provider(ALICE);
		provider(BOB);
		assert_ok!(publish_model(ALICE, model("base", v(1, 0, 0))));
		let mut tune = model("tune", v(1, 0, 0));
		tune.parent = Some(mref("base", v(2, 0, 0)));
		assert_noop!(publish_model(BOB, tune.clone()), Error::<Test>::ParentNotFound);
		tune.parent = Some(mref("base", v(1, 0, 0)));
		assert_ok!(publish_model(BOB, tune));
		let record = ModelVersions::<Test>::get(name("tune"), v(1, 0, 0)).unwrap();
		assert_eq!((record.depth, record.lineage_royalty), (1, Perbill::from_percent(6)));
		assert_eq!(ModelVersions::<Test>::get(name("base"), v(1, 0, 0)).unwrap().forks, 1);
		// Depth: base <- tune <- quant is MAX_DEPTH = 2; one more is refused.
		let mut quant = model("quant", v(1, 0, 0));
		quant.parent = Some(mref("tune", v(1, 0, 0)));
		assert_ok!(publish_model(BOB, quant));
		let mut deeper = model("deeper", v(1, 0, 0));
		deeper.parent = Some(mref("quant", v(1, 0, 0)));
		assert_noop!(publish_model(BOB, deeper), Error::<Test>::LineageTooDeep);
		// Royalties: 6% up to tune; 15% more would pass the 20% cap, 14% reaches it.
		let mut greedy = model("greedy", v(1, 0, 0));
		greedy.parent = Some(mref("tune", v(1, 0, 0)));
		greedy.royalty = Perbill::from_percent(15);
		assert_noop!(publish_model(BOB, greedy.clone()), Error::<Test>::RoyaltyCapExceeded);
		greedy.royalty = Perbill::from_percent(14);
		assert_ok!(publish_model(BOB, greedy));
	});
}

/// ALICE's module `chat` at 1.0.0 needing CHARLIE's model `tune`, derived from DAVE's `base`.
fn chat_with_models(module_royalty: u32) {
	provider(CHARLIE);
	provider(DAVE);
	let mut base = model("base", v(1, 0, 0));
	base.royalty = Perbill::from_percent(4);
	assert_ok!(publish_model(DAVE, base));
	let mut tune = model("tune", v(1, 0, 0));
	tune.parent = Some(mref("base", v(1, 0, 0)));
	assert_ok!(publish_model(CHARLIE, tune));
	provider_with_module(ALICE, "chat");
	let mut m = manifest("chat", v(1, 0, 0));
	m.royalty = Perbill::from_percent(module_royalty);
	m.models = vec![mref("tune", v(1, 0, 0))].try_into().unwrap();
	assert_ok!(publish(ALICE, m));
}

#[test]
fn a_module_version_needs_published_models_each_once() {
	test(|| {
		provider_with_module(ALICE, "chat");
		let mut m = manifest("chat", v(1, 0, 0));
		m.models = vec![mref("tune", v(1, 0, 0))].try_into().unwrap();
		assert_noop!(publish(ALICE, m.clone()), Error::<Test>::ModelNotFound);
		provider(CHARLIE);
		assert_ok!(publish_model(CHARLIE, model("tune", v(1, 0, 0))));
		assert_ok!(publish_model(CHARLIE, model("tune", v(1, 1, 0))));
		let mut twice = m.clone();
		twice.models = vec![mref("tune", v(1, 0, 0)), mref("tune", v(1, 1, 0))].try_into().unwrap();
		assert_noop!(publish(ALICE, twice), Error::<Test>::DuplicateModel);
		assert_ok!(publish(ALICE, m));
		let record = ModelVersions::<Test>::get(name("tune"), v(1, 0, 0)).unwrap();
		assert_eq!(record.modules, 1);
		assert_eq!(
			terms(&mref("chat", v(1, 0, 0))).models.into_inner(),
			vec![record.manifest.weights.digest]
		);
	});
}

#[test]
fn a_jobs_payees_are_the_module_lineage_then_each_models_within_the_cap() {
	test(|| {
		chat_with_models(5);
		let chat = mref("chat", v(1, 0, 0));
		let p = Perbill::from_percent;
		assert_eq!(
			terms(&chat).payees.into_inner(),
			vec![(account(ALICE), p(5)), (account(CHARLIE), p(3)), (account(DAVE), p(4))]
		);
		// A lower cap cuts the last in line: the module's lineage is paid first.
		RoyaltyCap::set(p(10));
		assert_eq!(
			terms(&chat).payees.into_inner(),
			vec![(account(ALICE), p(5)), (account(CHARLIE), p(3)), (account(DAVE), p(2))]
		);
		RoyaltyCap::set(p(20));
		// One owner twice in a job's lineages is paid once, the shares summed.
		let mut own = model("own", v(1, 0, 0));
		own.royalty = p(1);
		assert_ok!(publish_model(ALICE, own));
		let mut m = manifest("chat", v(1, 1, 0));
		m.models = vec![mref("own", v(1, 0, 0))].try_into().unwrap();
		assert_ok!(publish(ALICE, m));
		assert_eq!(
			terms(&mref("chat", v(1, 1, 0))).payees.into_inner(),
			vec![(account(ALICE), p(6))]
		);
	});
}

#[test]
fn a_module_and_its_models_lineages_stay_within_the_cap_together() {
	test(|| {
		chat_with_models(5);
		// 7% of model lineage; a module at 14% would take 21%.
		let mut m = manifest("chat", v(2, 0, 0));
		m.royalty = Perbill::from_percent(14);
		m.models = vec![mref("tune", v(1, 0, 0))].try_into().unwrap();
		assert_noop!(publish(ALICE, m.clone()), Error::<Test>::RoyaltyCapExceeded);
		m.royalty = Perbill::from_percent(13);
		assert_ok!(publish(ALICE, m));
	});
}

#[test]
fn jobs_count_on_each_model_and_a_model_in_use_stays() {
	test(|| {
		chat_with_models(5);
		let chat = mref("chat", v(1, 0, 0));
		assert_ok!(Registry::acquire(&chat));
		assert_eq!(ModelVersions::<Test>::get(name("tune"), v(1, 0, 0)).unwrap().active_jobs, 1);
		// A module version needs it, a derived model forks base: neither goes.
		assert_noop!(
			Registry::retire_model(signed(CHARLIE), name("tune")),
			Error::<Test>::ModelInUse
		);
		assert_noop!(
			Registry::retire_model(signed(DAVE), name("base")),
			Error::<Test>::VersionHasForks
		);
		assert_noop!(Registry::retire_model(signed(ALICE), name("tune")), Error::<Test>::NotOwner);
		assert_noop!(
			Registry::retire_model(signed(ALICE), name("none")),
			Error::<Test>::ModelNotFound
		);
		Registry::release(&chat);
		assert_eq!(ModelVersions::<Test>::get(name("tune"), v(1, 0, 0)).unwrap().active_jobs, 0);
		assert_ok!(Registry::retire_module(signed(ALICE), name("chat")));
		assert_eq!(ModelVersions::<Test>::get(name("tune"), v(1, 0, 0)).unwrap().modules, 0);
		let free = Balances::free_balance(account(CHARLIE));
		assert_ok!(Registry::retire_model(signed(CHARLIE), name("tune")));
		System::assert_last_event(
			Event::ModelRetired {
				model: name("tune"),
				owner: account(CHARLIE),
				deposit: MODULE_DEPOSIT + VERSION_DEPOSIT,
			}
			.into(),
		);
		assert_eq!(held(CHARLIE), 0);
		assert_eq!(
			Balances::free_balance(account(CHARLIE)),
			free + MODULE_DEPOSIT + VERSION_DEPOSIT
		);
		assert_eq!(ModelVersions::<Test>::get(name("base"), v(1, 0, 0)).unwrap().forks, 0);
		assert_ok!(Registry::retire_model(signed(DAVE), name("base")));
		assert!(Registry::model_info(name("base")).is_none());
	});
}

#[test]
fn models_are_read_back_page_by_page() {
	test(|| {
		provider(ALICE);
		for n in ["a", "b", "c"] {
			assert_ok!(publish_model(ALICE, model(n, v(1, 0, 0))));
		}
		let first = Registry::models_page(None, 2);
		assert_eq!(first.len(), 2);
		let rest = Registry::models_page(Some(first[1].name.clone()), 2);
		assert_eq!(rest.len(), 1);
		let mut names: Vec<_> = first.iter().chain(&rest).map(|m| m.name.clone()).collect();
		names.sort();
		assert_eq!(names, vec![name("a"), name("b"), name("c")]);
	});
}

#[test]
fn try_state_catches_model_counts_out_of_step() {
	new_test_ext().execute_with(|| {
		chat_with_models(5);
		Registry::do_try_state().unwrap();
		ModelVersions::<Test>::mutate(name("tune"), v(1, 0, 0), |r| {
			r.as_mut().unwrap().modules = 0
		});
		assert!(Registry::do_try_state().is_err());
	});
	new_test_ext().execute_with(|| {
		chat_with_models(5);
		ModelVersions::<Test>::mutate(name("tune"), v(1, 0, 0), |r| {
			r.as_mut().unwrap().active_jobs = 1
		});
		assert!(Registry::do_try_state().is_err());
	});
	new_test_ext().execute_with(|| {
		chat_with_models(5);
		Models::<Test>::mutate(name("base"), |m| m.as_mut().unwrap().deposit += 1);
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn the_v2_migration_rewrites_versions_to_name_models_and_keeps_their_signatures() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	use lilypad_primitives::registry::v1;
	test(|| {
		provider_with_module(ALICE, "echo");
		assert_ok!(publish(ALICE, manifest("echo", v(1, 0, 0))));
		assert_ok!(publish(ALICE, manifest("echo", v(1, 1, 0))));
		let now: Vec<_> = Versions::<Test>::iter().collect();
		// The chain as version 1 stored it.
		for (module, version, record) in &now {
			let m = record.manifest.clone();
			let old = v1::VersionRecord {
				manifest: v1::VersionManifest {
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
				publisher: record.publisher.clone(),
				signature: record.signature,
				published_at: record.published_at,
				price_floor: record.price_floor,
				deprecated: record.deprecated,
				depth: record.depth,
				lineage_royalty: record.lineage_royalty,
				active_jobs: record.active_jobs,
				forks: record.forks,
			};
			polkadot_sdk::frame_support::storage::unhashed::put_raw(
				&Versions::<Test>::hashed_key_for(module, version),
				&codec::Encode::encode(&old),
			);
		}
		StorageVersion::new(1).put::<Registry>();

		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();

		assert_eq!(Registry::on_chain_storage_version(), 2);
		let after: Vec<_> = Versions::<Test>::iter().collect();
		assert_eq!(after, now);
		for (_, _, record) in &after {
			let payload = manifest_signing_payload(&System::block_hash(0), &record.manifest);
			assert!(sr25519::Pair::verify(&record.signature, payload, &key(ALICE).public()));
		}
		System::assert_last_event(Event::VersionsMigrated { versions: 2, checked: true }.into());
		// Once only.
		System::reset_events();
		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();
		assert!(System::events().is_empty());
	});
}
