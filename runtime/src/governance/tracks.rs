//! The referendum tracks: one per governed power, each with its own deposit, timing and
//! thresholds.
//!
//! | id | track | origin | live timing (prepare / decide / confirm / enact) |
//! | --- | --- | --- | --- |
//! | 0 | `root` | Root: runtime upgrades, anything | 2 h / 14 d / 1 d / 1 d |
//! | 1 | `parameters` | `ParameterAdmin` | 1 h / 7 d / 3 h / 1 h |
//! | 2 | `slash_appeals` | `SlashAppeals` | 10 min / 20 h / 1 h / 1 block |
//! | 3 | `treasurer` | `Treasurer` | 1 h / 7 d / 1 d / 1 d |
//!
//! A slash appeal must be enacted before the slash applies, one `AppealWindow` (a day) after
//! the verdict: the `slash_appeals` track fits in 21 hours. On a [`Pace::Dev`] chain every
//! track decides within about two minutes.
//!
//! Support counts against [`super::VotableSupply`], not the total issuance: the rewards pool
//! and the treasury hold half the supply and never vote.
use super::origins::{Origin, Pace, TrackPace};
use crate::{Balance, BlockNumber, OriginCaller, Runtime, LILY};
use alloc::borrow::Cow;
use lilypad_primitives::{DAYS, HOURS, MINUTES};
use polkadot_sdk::{
	frame_system::RawOrigin,
	pallet_referenda::{Curve, Track, TrackInfo, TracksInfo},
	sp_runtime::{str_array as name, Perbill},
};

/// A track's timing, in blocks.
#[derive(Clone, Copy)]
struct Timing {
	prepare: BlockNumber,
	decide: BlockNumber,
	confirm: BlockNumber,
	enact: BlockNumber,
}

/// A track with both of its timings.
struct TrackSpec {
	id: u16,
	name: [u8; 25],
	max_deciding: u32,
	decision_deposit: Balance,
	live: Timing,
	dev: Timing,
	/// Approval needed at the end of the decision period (it starts at 100%).
	approval_floor: Perbill,
	/// Support needed at the start and at the end of the decision period.
	support: (Perbill, Perbill),
}

impl TrackSpec {
	fn at(&self, pace: Pace) -> Track<u16, Balance, BlockNumber> {
		let t = match pace {
			Pace::Live => self.live,
			Pace::Dev => self.dev,
		};
		Track {
			id: self.id,
			info: TrackInfo {
				name: self.name,
				max_deciding: self.max_deciding,
				decision_deposit: self.decision_deposit,
				prepare_period: t.prepare,
				decision_period: t.decide,
				confirm_period: t.confirm,
				min_enactment_period: t.enact,
				min_approval: Curve::LinearDecreasing {
					length: Perbill::one(),
					floor: self.approval_floor,
					ceil: Perbill::one(),
				},
				min_support: Curve::LinearDecreasing {
					length: Perbill::one(),
					floor: self.support.1,
					ceil: self.support.0,
				},
			},
		}
	}
}

pub const ROOT: u16 = 0;
pub const PARAMETERS: u16 = 1;
pub const SLASH_APPEALS: u16 = 2;
pub const TREASURER: u16 = 3;

/// Dev timing: a few blocks each, so a referendum passes in about two minutes.
const DEV: Timing = Timing { prepare: 2, decide: 60, confirm: 3, enact: 1 };

const TRACKS: [TrackSpec; 4] = [
	TrackSpec {
		id: ROOT,
		name: name("root"),
		max_deciding: 1,
		decision_deposit: 100_000 * LILY,
		live: Timing { prepare: 2 * HOURS, decide: 14 * DAYS, confirm: DAYS, enact: DAYS },
		dev: DEV,
		approval_floor: Perbill::from_percent(50),
		support: (Perbill::from_percent(50), Perbill::from_percent(1)),
	},
	TrackSpec {
		id: PARAMETERS,
		name: name("parameters"),
		max_deciding: 10,
		decision_deposit: 10_000 * LILY,
		live: Timing { prepare: HOURS, decide: 7 * DAYS, confirm: 3 * HOURS, enact: HOURS },
		dev: DEV,
		approval_floor: Perbill::from_percent(50),
		support: (Perbill::from_percent(25), Perbill::from_percent(1)),
	},
	TrackSpec {
		id: SLASH_APPEALS,
		name: name("slash_appeals"),
		max_deciding: 20,
		decision_deposit: 1_000 * LILY,
		live: Timing { prepare: 10 * MINUTES, decide: 20 * HOURS, confirm: HOURS, enact: 1 },
		dev: DEV,
		approval_floor: Perbill::from_percent(50),
		support: (Perbill::from_percent(10), Perbill::from_parts(5_000_000)),
	},
	TrackSpec {
		id: TREASURER,
		name: name("treasurer"),
		max_deciding: 10,
		decision_deposit: 10_000 * LILY,
		live: Timing { prepare: HOURS, decide: 7 * DAYS, confirm: DAYS, enact: DAYS },
		dev: DEV,
		approval_floor: Perbill::from_percent(50),
		support: (Perbill::from_percent(25), Perbill::from_percent(1)),
	},
];

/// The tracks at the chain's [`Pace`].
pub struct Tracks;
impl TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = u16;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, Balance, BlockNumber>>> {
		let pace = TrackPace::<Runtime>::get();
		TRACKS.iter().map(move |t| Cow::Owned(t.at(pace)))
	}

	fn track_for(origin: &OriginCaller) -> Result<u16, ()> {
		match origin {
			OriginCaller::system(RawOrigin::Root) => Ok(ROOT),
			OriginCaller::Origins(Origin::ParameterAdmin) => Ok(PARAMETERS),
			OriginCaller::Origins(Origin::SlashAppeals) => Ok(SLASH_APPEALS),
			OriginCaller::Origins(Origin::Treasurer) => Ok(TREASURER),
			_ => Err(()),
		}
	}
}
