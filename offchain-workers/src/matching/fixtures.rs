//! Jobs, providers and whole markets to match, for the tests and the benchmark.
use super::{OpenJob, Params, Provider, NEUTRAL_REPUTATION};
use lilypad_primitives::{
	economics::{charge, FeeRates},
	jobs::{Job, JobInputs, JobState},
	providers::{Gpu, ModuleFilter, Offer, OfferResources, ProviderStatus},
	registry::{ModuleRef, Resources, SemVer, VerificationPolicy},
};
use polkadot_sdk::sp_runtime::{FixedU128, Perbill};

pub type Account = u64;
pub const UNIT: u128 = 1_000;

pub fn params() -> Params {
	Params {
		rho: FixedU128::from_rational(5, 2),
		stake_exponent: FixedU128::from_u32(1),
		reputation_exponent: FixedU128::from_u32(1),
		max_pairs: usize::MAX,
	}
}

/// A job on `module` needing one core and 512 MiB and no models, open until block 100.
pub fn job(id: u64, module: &str, max_price: u128) -> OpenJob<Account, u128, u32> {
	let rates = FeeRates { solver: Perbill::zero(), protocol: Perbill::zero() };
	OpenJob {
		id,
		job: Job {
			creator: 0,
			module: ModuleRef {
				name: module.as_bytes().to_vec().try_into().unwrap(),
				version: SemVer::new(1, 0, 0),
			},
			module_digest: [0; 32],
			resources: Resources { cpu_millicores: 1_000, ram_mib: 512, ..Default::default() },
			timeout_secs: 60,
			verification: VerificationPolicy::None,
			inputs: JobInputs::default(),
			max_price,
			target: None,
			credentials: Default::default(),
			rates,
			charge: charge(max_price, rates, Perbill::zero()),
			escrow: max_price,
			challenge_fee: 0,
			deposit: 0,
			match_by: 100,
			state: JobState::Open,
			due: Some(101),
			history: Default::default(),
		},
		floor: 1,
		models: Default::default(),
	}
}

/// An active provider asking `price` for any module, with 4 cores, 4 GiB, one job slot,
/// collateral for ten jobs at that price and no models.
pub fn provider(account: Account, price: u128) -> Provider<Account, u128> {
	Provider {
		account,
		offer: Offer {
			resources: OfferResources {
				cpu_millicores: 4_000,
				ram_mib: 4_096,
				gpus: Default::default(),
				disk_mib: 10_240,
			},
			modules: ModuleFilter::All,
			default_price: price,
			prices: Default::default(),
			capacity: 1,
			credentials: Default::default(),
			endpoint: b"http://p".to_vec().try_into().unwrap(),
			models: Default::default(),
		},
		status: ProviderStatus::Active,
		active_jobs: 0,
		free_collateral: 25 * price,
		stake: 25 * price,
		reputation: NEUTRAL_REPUTATION,
		credentials: Default::default(),
	}
}

/// Open jobs and the providers' offers, as a solver round sees them.
pub type Market = (Vec<OpenJob<Account, u128, u32>>, Vec<Provider<Account, u128>>);

/// A deterministic pseudo-random market: `jobs` jobs over 50 modules, `offers` providers with
/// mixed hardware (a fifth with GPUs), prices, capacities (1 to 8), filters, credentials and
/// stakes; a twentieth of providers are away and a fiftieth of jobs name a target. A quarter of
/// jobs run with one of 4 models, and a third of providers hold some of them.
pub fn market(jobs: usize, offers: usize, seed: u64) -> Market {
	let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
	let mut next = move |n: u64| {
		// xorshift64*: cheap and reproducible.
		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
	};
	let module = |i: u64| alloc::format!("module-{i}");
	let credential = || b"kyc:basic".to_vec().try_into().unwrap();
	let model = |i: u64| [i as u8; 32];
	let providers: Vec<_> = (0..offers as u64)
		.map(|a| {
			let mut p = provider(a, UNIT + next(1_000) as u128);
			p.offer.resources.cpu_millicores = 1_000 * (1 + next(16) as u32);
			p.offer.resources.ram_mib = 1_024 * (1 + next(64) as u32);
			if next(5) == 0 {
				let gpu =
					Gpu { model: b"NVIDIA H100".to_vec().try_into().unwrap(), vram_mib: 81_920 };
				p.offer.resources.gpus = alloc::vec![gpu; 1 + next(8) as usize].try_into().unwrap();
			}
			p.offer.capacity = 1 + next(8) as u32;
			p.active_jobs = next(p.offer.capacity as u64 + 1) as u32;
			if next(4) == 0 {
				let served = (0..4).map(|_| module(next(50)).into_bytes().try_into().unwrap());
				let mut served: alloc::vec::Vec<_> = served.collect();
				served.sort();
				served.dedup();
				p.offer.modules = ModuleFilter::Only(served.try_into().unwrap());
			}
			if next(10) == 0 {
				p.credentials = alloc::vec![credential()];
			}
			if next(20) == 0 {
				p.status = ProviderStatus::Away;
			}
			p.stake = UNIT * (1 + next(1_000) as u128);
			p.free_collateral = p.stake.min(UNIT * 25 * (1 + next(8) as u128));
			p.reputation = Perbill::from_percent(1 + next(99) as u32);
			if next(3) == 0 {
				let held = (0..1 + next(3)).map(|_| model(next(4)));
				let mut held: alloc::vec::Vec<_> = held.collect();
				held.sort();
				held.dedup();
				p.offer.models = held.try_into().unwrap();
			}
			p
		})
		.collect();
	let jobs = (0..jobs as u64)
		.map(|id| {
			let mut j = job(id, &module(next(50)), UNIT + next(2_000) as u128);
			j.job.resources.cpu_millicores = 500 * (1 + next(8) as u32);
			j.job.resources.ram_mib = 256 * (1 + next(64) as u32);
			if next(10) == 0 {
				j.job.resources.gpus = 1 + next(4) as u8;
				j.job.resources.vram_mib = 40_960;
			}
			if next(20) == 0 {
				j.job.credentials = alloc::vec![credential()].try_into().unwrap();
			}
			if next(50) == 0 && offers > 0 {
				j.job.target = Some(next(offers as u64));
			}
			j.floor = UNIT / 2 + next(1_000) as u128;
			if next(4) == 0 {
				j.models = alloc::vec![model(next(4))];
			}
			j
		})
		.collect();
	(jobs, providers)
}
