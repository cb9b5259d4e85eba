//! One Monte Carlo trial: paperwork, production order books, delivery (issue 3,
//! "Semantics", and issue 8).
//!
//! [`Model::compile`] turns a scenario and an optional policy into flat arrays, once per
//! run; [`Model::simulate`] then plays one trial on its own random stream. Time is
//! continuous, in days since the scenario start; each line keeps its own clock in days
//! since its book date (an integer number of days before the start, zero for a line
//! without a dated book), and whole days are counted on that clock before being moved to
//! the start's, so that moving the start does not move a date by a rounding.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use expedite_core::{Channel, Date, Stage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dist::{Conditioned, DurationDist};
use crate::scenario::{Case, ChannelTimes, Line, Policy, Scenario, is_paperwork};

/// Which sources of uncertainty a trial draws; the others sit at their medians (band
/// parts: the width a source causes alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// Whose remaining paperwork stages are drawn.
    pub paperwork: Paperwork,
    /// Transport from completion to delivery.
    pub transport: bool,
    /// Each line's realised rate multiplier.
    pub rate: bool,
    /// Each line's ramp-up slip.
    pub slip: bool,
    /// Each case's first-delivery delay.
    pub delay: bool,
    /// Each case's delivery span (its pace of delivery).
    pub pace: bool,
}

impl Sources {
    /// Every source random: a normal trial.
    pub const ALL: Sources = Sources {
        paperwork: Paperwork::Drawn,
        transport: true,
        rate: true,
        slip: true,
        delay: true,
        pace: true,
    };
    /// Every source at its median.
    pub const NONE: Sources = Sources {
        paperwork: Paperwork::Median,
        transport: false,
        rate: false,
        slip: false,
        delay: false,
        pace: false,
    };
}

/// Whose paperwork stages a trial draws. A case's own stages move its order date; other
/// cases' stages reach it through the queue (whether they order before it), so the band
/// parts hold the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paperwork {
    /// Every case's stages at their medians.
    Median,
    /// Every case's stages drawn.
    Drawn,
    /// Only this case's (by index) stages drawn.
    OnlyCase(usize),
    /// Every case's stages drawn but this one's.
    AllButCase(usize),
}

impl Paperwork {
    /// Whether the stages of case `index` are drawn.
    pub fn drawn_for(self, index: usize) -> bool {
        match self {
            Paperwork::Median => false,
            Paperwork::Drawn => true,
            Paperwork::OnlyCase(case) => case == index,
            Paperwork::AllButCase(case) => case != index,
        }
    }
}

/// Word offsets in a trial's stream of the sources added by issue 8: each line's and each
/// case's draw has its own fixed position far beyond what paperwork and transport use, so
/// adding a source, or a draw that takes more words, moves no other draw.
const RATE_WORDS: u128 = 1 << 64;
const SLIP_WORDS: u128 = 2 << 64;
const DELAY_WORDS: u128 = 3 << 64;
const PACE_WORDS: u128 = 4 << 64;
/// Words reserved for one item's draw (a PERT draw may reject and draw again).
const ITEM_WORDS_SHIFT: u32 = 16;

/// What a case's time from the start to its final delivery is spent on, for bottleneck
/// attribution: the paperwork stages, then the line (queue and build up to the last unit's
/// release), the line's lead time, and transport.
pub const COMPONENTS: [&str; 9] = [
    "lor_received",
    "lor_actionable",
    "loa_development",
    "congressional_review",
    "offered",
    "implemented",
    "production",
    "lead_time",
    "transport",
];
const PRODUCTION: usize = 6;
const LEAD_TIME: usize = 7;
const TRANSPORT: usize = 8;

fn component_of(stage: Stage) -> usize {
    // Paperwork stages are the first six of the forward path, in COMPONENTS' order.
    stage.forward_position().unwrap_or(0).min(PRODUCTION - 1)
}

/// Days between two dates (positive when `to` is later).
pub(crate) fn days_between(from: Date, to: Date) -> f64 {
    (to - from).get_days() as f64
}

/// One remaining paperwork stage of a case in this run.
#[derive(Debug, Clone)]
struct StageStep {
    component: usize,
    duration: StepDuration,
    scale: f64,
    /// The median remaining days, for runs that hold paperwork still.
    median: f64,
}

#[derive(Debug, Clone)]
enum StepDuration {
    /// Drawn from the channel's distribution; the first step is conditioned on the time
    /// already spent.
    Drawn {
        dist: DurationDist,
        given: Conditioned,
    },
    /// Fixed by statute (congressional review), less the time already spent.
    Statutory { remaining: f64 },
}

#[derive(Debug, Clone)]
struct CaseModel {
    tier: u32,
    /// Order (contract) time when the case is already on contract.
    known_contract: Option<f64>,
    /// First delivery already happened on this day.
    known_first_delivery: Option<f64>,
    /// Nothing left to build: its real contract, first and final days.
    delivered: Option<[f64; 3]>,
    paperwork: Vec<StageStep>,
    transport: Option<DurationDist>,
    transport_median: f64,
    transport_scale: f64,
    /// The first-delivery delay, when one applies (new configuration, nothing delivered,
    /// no promise).
    delay: Option<DurationDist>,
    delay_median: f64,
    /// The first delivery promised at signing and its slip, when both are known and
    /// nothing is delivered: the first delivery is the promise plus the slip drawn.
    promise: Option<Promise>,
    /// The least days from first to final delivery, when a span applies (the case is not
    /// delivered).
    span: Option<DurationDist>,
    span_median: f64,
    /// The span's factor for the size of this case's order (1 without a scale).
    span_scale: f64,
    /// Offset of this case's lines in the flat per-case-line arrays.
    first_line: usize,
    /// Per case line: the production line, the units still to build, and the day of its
    /// last delivery so far (days since the start).
    lines: Vec<(usize, u32, Option<f64>)>,
}

/// The trial's stream at `item`'s position for the source starting at `words`.
fn positioned(rng: &mut ChaCha8Rng, words: u128, item: usize) -> &mut ChaCha8Rng {
    rng.set_word_pos(words + ((item as u128) << ITEM_WORDS_SHIFT));
    rng
}

/// A promised first delivery (days since the start) and how far promises slip, conditioned
/// on the first delivery not having happened before the start.
#[derive(Debug, Clone)]
struct Promise {
    day: f64,
    slip: DurationDist,
    given: Conditioned,
}

impl Promise {
    fn new(day: f64, slip: DurationDist) -> Promise {
        // A promise already past with nothing delivered has slipped at least that long.
        let given = slip.conditioned_on(-day);
        Promise { day, slip, given }
    }

    /// The first delivery for a slip draw of `remaining` (as [`Conditioned::sample`] gives
    /// it: past a promise already missed, the days left after the start).
    fn first_delivery(&self, remaining: f64) -> f64 {
        self.day.max(0.0) + remaining
    }

    fn median_first_delivery(&self) -> f64 {
        self.first_delivery(self.given.median(&self.slip))
    }
}

#[derive(Debug, Clone)]
struct LineModel {
    /// The book date in days since the start (zero or less): the line's clock starts here.
    origin: i32,
    lead_time: f64,
    /// The tier-0 backlog block: units, and the time it joins the queue (line clock).
    backlog: u32,
    backlog_at: f64,
    /// Other customers' orders: (time on the line clock, queue key, units).
    orders: Vec<(f64, u128, u32)>,
    /// The planned steps on the line clock: (from, units per year, raises the rate).
    steps: Vec<(f64, f64, bool)>,
    /// The policy's rate changes on the line clock: (from, factor).
    changes: Vec<(f64, f64)>,
    /// `(start, units per day)` on the line clock with no slip and a multiplier of one.
    segments: Vec<(f64, f64)>,
    rate_multiplier: Option<DurationDist>,
    rate_multiplier_median: f64,
    ramp_slip: Option<DurationDist>,
    ramp_slip_median: f64,
    /// Flat case-line indices of the case lines built here.
    case_lines: Vec<usize>,
}

/// A scenario compiled for one run (the base or one policy).
#[derive(Debug, Clone)]
pub struct Model {
    seed: u64,
    cases: Vec<CaseModel>,
    lines: Vec<LineModel>,
    /// For each flat case line: (case index, index of the line within the case).
    case_line_owner: Vec<(usize, usize)>,
    /// For each flat case line: its case's tier, its units still to build, and its rank in
    /// (case id, line index) order after every order's: what the queue needs, kept together
    /// so that a unit joining the queue reads one small record.
    case_line_queue_facts: Vec<(u32, u32, u32)>,
    /// Whether the target was given, and its day.
    pub(crate) target_day: Option<i32>,
    /// The stage each case has overrun, if any (DESIGN.md: reported as overdue).
    pub(crate) overdue: Vec<Option<Stage>>,
}

/// Per-worker buffers, reused from trial to trial.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    contract: Vec<f64>,
    paperwork_days: Vec<[f64; PRODUCTION]>,
    line_transport: Vec<f64>,
    first_transport: Vec<f64>,
    first_release: Vec<f64>,
    last_release: Vec<f64>,
    arrivals: Vec<(f64, usize)>,
    waiting: BinaryHeap<Reverse<Waiting>>,
    segments: Vec<(f64, f64)>,
    multiplier: Vec<f64>,
    slip: Vec<f64>,
    delay: Vec<f64>,
    /// Per case: the promised first delivery drawn (days since the start), NaN without one.
    promised: Vec<f64>,
    span: Vec<f64>,
}

/// What one trial produced, reduced to what the report needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialOutcome {
    /// Per case: contract, first delivery, final delivery, as days since start (rounded up).
    pub case_days: Vec<[i32; 3]>,
    /// Per line: the day its last unit is released (0 when it builds nothing).
    pub line_clear_days: Vec<i32>,
    /// Per line: units built ÷ capacity offered, from the start until it clears.
    pub line_utilisation: Vec<f64>,
    /// Mean days per component over the cases still to deliver.
    pub component_days: [f64; COMPONENTS.len()],
    /// Per case: bit 0 set when the first delivery was forecast before the start and moved
    /// to it, bit 1 the same for the final delivery.
    pub clamped: Vec<u8>,
}

/// Bit of [`TrialOutcome::clamped`]: first delivery moved to the start.
pub const CLAMPED_FIRST: u8 = 1;
/// Bit of [`TrialOutcome::clamped`]: final delivery moved to the start.
pub const CLAMPED_FINAL: u8 = 2;

/// A case line waiting for the line. Its priority (tier, contract time, case id, line
/// index) is packed into one integer so that the queue compares one number.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    key: u128,
    case_line: usize,
    remaining: u32,
}

impl Waiting {
    /// `tier` in the top 32 bits, then the contract time as order-preserving bits, then
    /// the case line's rank in (case id, line index) order.
    fn key(tier: u32, contract: f64, order_rank: u32) -> u128 {
        let bits = contract.to_bits();
        let ordered = if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        };
        (u128::from(tier) << 96) | (u128::from(ordered) << 32) | u128::from(order_rank)
    }
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// Rounds a time up to whole days since the start ("start + ceil(t)").
pub(crate) fn day_of(time: f64) -> i32 {
    let day = time.ceil();
    if day >= f64::from(i32::MAX) {
        i32::MAX
    } else if day <= f64::from(i32::MIN) {
        i32::MIN
    } else {
        day as i32
    }
}

impl Model {
    /// Compiles the scenario with a policy applied (none for the base).
    pub fn compile(scenario: &Scenario, policy: Option<&Policy>, seed: u64) -> Model {
        let id_ranks = id_ranks(scenario);
        let mut cases = Vec::with_capacity(scenario.cases.len());
        let mut overdue = Vec::with_capacity(scenario.cases.len());
        let mut case_line_owner = Vec::new();
        let mut line_case_lines: Vec<Vec<usize>> = vec![Vec::new(); scenario.lines.len()];
        for (index, case) in scenario.cases.iter().enumerate() {
            let first_line = case_line_owner.len();
            for (line_in_case, line) in case.lines.iter().enumerate() {
                line_case_lines[line.line].push(case_line_owner.len());
                case_line_owner.push((index, line_in_case));
            }
            let (model, overrun) = compile_case(scenario, case, policy, first_line);
            cases.push(model);
            overdue.push(overrun);
        }
        let mut order_rank = 0_u32;
        let lines: Vec<LineModel> = scenario
            .lines
            .iter()
            .enumerate()
            .zip(line_case_lines)
            .map(|((index, line), case_lines)| {
                compile_line(scenario, index, line, policy, case_lines, &mut order_rank)
            })
            .collect();
        let target_day = scenario
            .target
            .map(|target| day_of(days_between(scenario.start, target)));
        let case_line_queue_facts = case_line_ranks(&case_line_owner, &id_ranks)
            .into_iter()
            .zip(&case_line_owner)
            .map(|(rank, &(case, line))| {
                (
                    cases[case].tier,
                    cases[case].lines[line].1,
                    rank.saturating_add(order_rank),
                )
            })
            .collect();
        Model {
            seed,
            cases,
            lines,
            case_line_owner,
            case_line_queue_facts,
            target_day,
            overdue,
        }
    }

    /// Number of cases.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Whether any line or case draws this issue-8 source (so a band-parts run for it is
    /// worth making).
    pub fn has_source(&self, sources: Sources) -> bool {
        (sources.rate && self.lines.iter().any(|line| line.rate_multiplier.is_some()))
            || (sources.slip && self.lines.iter().any(|line| line.ramp_slip.is_some()))
            || (sources.delay
                && self
                    .cases
                    .iter()
                    .any(|case| case.delay.is_some() || case.promise.is_some()))
            || (sources.pace && self.cases.iter().any(|case| case.span.is_some()))
            || (sources.transport && self.cases.iter().any(|case| case.transport.is_some()))
            || self.cases.iter().enumerate().any(|(index, case)| {
                sources.paperwork.drawn_for(index) && !case.paperwork.is_empty()
            })
    }

    /// Whether another case that still has paperwork to draw builds on one of this case's
    /// lines: only then can other cases' paperwork reach it through the queue.
    pub fn shares_queue(&self, index: usize) -> bool {
        let Some(case) = self.cases.get(index) else {
            return false;
        };
        let builds_on = |other: &CaseModel, line: usize| {
            other
                .lines
                .iter()
                .any(|(other_line, _, _)| *other_line == line)
        };
        self.cases.iter().enumerate().any(|(other_index, other)| {
            other_index != index
                && !other.paperwork.is_empty()
                && case
                    .lines
                    .iter()
                    .any(|(line, _, _)| builds_on(other, *line))
        })
    }

    /// Plays trial `trial` on its own stream: ChaCha8 seeded with the scenario seed, stream
    /// id = trial index (STYLE.md habit 8). Every run uses the same stream for the same trial,
    /// so policies are compared on common random numbers.
    pub fn simulate(&self, trial: u64, scratch: &mut Scratch) -> TrialOutcome {
        self.simulate_with(trial, scratch, Sources::ALL)
    }

    /// [`Model::simulate`] with only `sources` random, the others at their medians.
    pub fn simulate_with(
        &self,
        trial: u64,
        scratch: &mut Scratch,
        sources: Sources,
    ) -> TrialOutcome {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(trial);
        self.draw_paperwork_and_transport(&mut rng, scratch, sources);
        self.draw_line_and_delay_sources(&mut rng, scratch, sources);
        let (line_clear_days, line_utilisation) = self.produce(scratch);
        let (case_days, component_days, clamped) = self.deliver(scratch);
        TrialOutcome {
            case_days,
            line_clear_days,
            line_utilisation,
            component_days,
            clamped,
        }
    }

    /// Draws, in case order, each remaining paperwork stage, then one transport time per
    /// case line and one for the first delivery. The order of draws does not depend on the
    /// policy, which keeps the random numbers common; a source held at its median still
    /// takes its draw, so the other draws stay where they are.
    fn draw_paperwork_and_transport(
        &self,
        rng: &mut ChaCha8Rng,
        scratch: &mut Scratch,
        sources: Sources,
    ) {
        let flat_lines = self.case_line_owner.len();
        scratch.contract.clear();
        scratch.paperwork_days.clear();
        scratch.line_transport.clear();
        scratch.line_transport.resize(flat_lines, 0.0);
        scratch.first_transport.clear();
        for (index, case) in self.cases.iter().enumerate() {
            let drawn_paperwork = sources.paperwork.drawn_for(index);
            let mut days = [0.0; PRODUCTION];
            let mut contract = 0.0;
            for step in &case.paperwork {
                let drawn = match &step.duration {
                    StepDuration::Drawn { dist, given } => given.sample(dist, rng),
                    StepDuration::Statutory { remaining } => *remaining,
                };
                let raw = if drawn_paperwork { drawn } else { step.median };
                // A stage scaled to nothing takes no time, even when its draw overflowed.
                let spent = if step.scale == 0.0 {
                    0.0
                } else {
                    raw * step.scale
                };
                days[step.component] += spent;
                contract += spent;
            }
            scratch
                .contract
                .push(case.known_contract.unwrap_or(contract));
            scratch.paperwork_days.push(days);
            let mut transport = || match &case.transport {
                Some(dist) if case.delivered.is_none() => {
                    let drawn = dist.sample(rng);
                    let days = if sources.transport {
                        drawn
                    } else {
                        case.transport_median
                    };
                    if case.transport_scale == 0.0 {
                        0.0
                    } else {
                        days * case.transport_scale
                    }
                }
                _ => 0.0,
            };
            for offset in 0..case.lines.len() {
                scratch.line_transport[case.first_line + offset] = transport();
            }
            let first = transport();
            scratch.first_transport.push(first);
        }
    }

    /// Draws each line's rate multiplier and ramp slip and each case's first-delivery
    /// delay or promise slip, and its span, each at its own fixed position of the trial's
    /// stream.
    fn draw_line_and_delay_sources(
        &self,
        rng: &mut ChaCha8Rng,
        scratch: &mut Scratch,
        sources: Sources,
    ) {
        scratch.multiplier.clear();
        scratch.slip.clear();
        for (index, line) in self.lines.iter().enumerate() {
            scratch.multiplier.push(match &line.rate_multiplier {
                Some(dist) if sources.rate => dist.sample(positioned(rng, RATE_WORDS, index)),
                Some(_) => line.rate_multiplier_median,
                None => 1.0,
            });
            scratch.slip.push(match &line.ramp_slip {
                Some(dist) if sources.slip => dist.sample(positioned(rng, SLIP_WORDS, index)),
                Some(_) => line.ramp_slip_median,
                None => 0.0,
            });
        }
        scratch.delay.clear();
        scratch.promised.clear();
        scratch.span.clear();
        for (index, case) in self.cases.iter().enumerate() {
            scratch.delay.push(match &case.delay {
                Some(dist) if sources.delay => dist.sample(positioned(rng, DELAY_WORDS, index)),
                Some(_) => case.delay_median,
                None => 0.0,
            });
            // A case has a promise or a delay, not both: the slip takes the delay's place.
            scratch.promised.push(match &case.promise {
                Some(promise) if sources.delay => promise.first_delivery(
                    promise
                        .given
                        .sample(&promise.slip, positioned(rng, DELAY_WORDS, index)),
                ),
                Some(promise) => promise.median_first_delivery(),
                None => f64::NAN,
            });
            scratch.span.push(match &case.span {
                Some(dist) if sources.pace => {
                    dist.sample(positioned(rng, PACE_WORDS, index)) * case.span_scale
                }
                Some(_) => case.span_median * case.span_scale,
                None => 0.0,
            });
        }
    }

    /// Runs every line's queue; returns each line's clear day and utilisation.
    fn produce(&self, scratch: &mut Scratch) -> (Vec<i32>, Vec<f64>) {
        let flat_lines = self.case_line_owner.len();
        scratch.first_release.clear();
        scratch.first_release.resize(flat_lines, f64::NAN);
        scratch.last_release.clear();
        scratch.last_release.resize(flat_lines, f64::NAN);
        let mut clear_days = Vec::with_capacity(self.lines.len());
        let mut utilisation = Vec::with_capacity(self.lines.len());
        let mut segments = std::mem::take(&mut scratch.segments);
        for (index, line) in self.lines.iter().enumerate() {
            let (multiplier, slip) = (scratch.multiplier[index], scratch.slip[index]);
            let plan: &[(f64, f64)] = if multiplier == 1.0 && slip == 0.0 {
                &line.segments
            } else {
                line_segments(&line.steps, &line.changes, slip, multiplier, &mut segments);
                &segments
            };
            let (clear, built) = self.run_line(line, plan, scratch);
            clear_days.push(day_of(clear).saturating_add(line.origin));
            let offered = capacity_between(plan, 0.0, clear);
            utilisation.push(if offered > 0.0 {
                built as f64 / offered
            } else {
                0.0
            });
        }
        scratch.segments = segments;
        (clear_days, utilisation)
    }

    /// One line's order book (issue 3, "Production"; issue 8 §1): one unit at a time, each
    /// needing one unit of work at the piecewise-constant rate, on the line's own clock from
    /// its book date; at each release the line takes the waiting unit with the smallest
    /// (tier, order time, id, line index, unit index), the backlog block (a backlog that
    /// does not hold the cases) before all; with nothing waiting it idles and the capacity
    /// is lost. Returns the last release time (line clock) and the number of units built.
    fn run_line(&self, line: &LineModel, plan: &[(f64, f64)], scratch: &mut Scratch) -> (f64, u64) {
        let flat_lines = self.case_line_owner.len();
        let origin = f64::from(line.origin);
        scratch.arrivals.clear();
        for &case_line in &line.case_lines {
            let (case, _) = self.case_line_owner[case_line];
            if self.cases[case].delivered.is_none() && self.case_line_queue_facts[case_line].1 > 0 {
                scratch
                    .arrivals
                    .push((scratch.contract[case] - origin, case_line));
            }
        }
        if line.backlog > 0 {
            scratch.arrivals.push((line.backlog_at, flat_lines));
        }
        for (at, order) in line.orders.iter().enumerate() {
            scratch.arrivals.push((order.0, flat_lines + 1 + at));
        }
        scratch
            .arrivals
            .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        scratch.waiting.clear();
        let mut clock = LineClock {
            segments: plan,
            segment: 0,
            now: 0.0,
        };
        let mut next_arrival = 0;
        let mut built: u64 = 0;
        let mut last_release = 0.0;
        // The entry being built is kept out of the heap, so that building a unit costs no
        // heap operation; it goes back only when a new arrival may outrank it.
        let mut current: Option<Waiting> = None;
        loop {
            // An arrival at the same instant as a release is considered for the next unit.
            while let Some(&(time, entry)) = scratch.arrivals.get(next_arrival)
                && time <= clock.now
            {
                let waiting = self.waiting_for(line, entry, time);
                scratch.waiting.push(Reverse(waiting));
                next_arrival += 1;
            }
            let outranked = current.as_ref().is_some_and(|head| {
                scratch
                    .waiting
                    .peek()
                    .is_some_and(|Reverse(top)| top.key < head.key)
            });
            if outranked && let Some(head) = current.take() {
                scratch.waiting.push(Reverse(head));
            }
            if current.is_none() {
                current = scratch.waiting.pop().map(|Reverse(head)| head);
            }
            let Some(unit) = current.as_mut() else {
                match scratch.arrivals.get(next_arrival) {
                    Some(&(time, _)) => {
                        clock.idle_until(time);
                        continue;
                    }
                    None => break,
                }
            };
            // Build the head's units back to back while no arrival can outrank them: the
            // backlog block (key 0) is never outranked; anything else only by arrivals from
            // the next one on.
            let start_before = if unit.key == BACKLOG_KEY {
                f64::INFINITY
            } else {
                scratch
                    .arrivals
                    .get(next_arrival)
                    .map_or(f64::INFINITY, |arrival| arrival.0)
            };
            let run = clock.build_units(unit.remaining, start_before);
            built += u64::from(run.units);
            last_release = run.last_release;
            if unit.case_line < flat_lines && scratch.first_release[unit.case_line].is_nan() {
                scratch.first_release[unit.case_line] = run.first_release;
            }
            unit.remaining -= run.units;
            if unit.remaining == 0 {
                if unit.case_line < flat_lines {
                    scratch.last_release[unit.case_line] = run.last_release;
                }
                current = None;
            }
        }
        (last_release, built)
    }

    /// The queue entry for an arrival: a case line (`entry` below the number of flat case
    /// lines), the backlog block (`entry` equal to it), or an order (above).
    fn waiting_for(&self, line: &LineModel, entry: usize, time: f64) -> Waiting {
        let flat_lines = self.case_line_owner.len();
        if entry < flat_lines {
            let (tier, remaining, rank) = self.case_line_queue_facts[entry];
            return Waiting {
                key: Waiting::key(tier, time, rank),
                case_line: entry,
                remaining,
            };
        }
        if entry == flat_lines {
            return Waiting {
                key: BACKLOG_KEY,
                case_line: entry,
                remaining: line.backlog,
            };
        }
        let (_, key, units) = line.orders[entry - flat_lines - 1];
        Waiting {
            key,
            case_line: entry,
            remaining: units,
        }
    }

    /// Delivery (issue 3; issue 8 §2–3): a case line is delivered at its last unit's
    /// completion plus its transport (and not before its last recorded delivery); the
    /// case's final delivery is the latest line. Its first delivery is a fact when one is
    /// recorded, else the promised first delivery plus its slip where the case states a
    /// promise, else the earliest unit completion plus one more transport draw plus the
    /// first-delivery delay; units completed before that day are handed over on it. With a
    /// delivery span, the final delivery is no earlier than the first (real
    /// or forecast) plus the span drawn. A date the facts say has not happened yet is never
    /// before the start.
    fn deliver(&self, scratch: &Scratch) -> (Vec<[i32; 3]>, [f64; COMPONENTS.len()], Vec<u8>) {
        let mut case_days = Vec::with_capacity(self.cases.len());
        let mut clamped = vec![0_u8; self.cases.len()];
        let mut sums = [0.0; COMPONENTS.len()];
        let mut open_cases = 0_u32;
        for (index, case) in self.cases.iter().enumerate() {
            let contract = scratch.contract[index];
            if let Some([ordered, first, last]) = case.delivered {
                case_days.push([day_of(ordered), day_of(first), day_of(last)]);
                continue;
            }
            let delay = scratch.delay[index];
            let mut first_day = i32::MAX;
            let mut final_day = i32::MIN;
            let mut final_delivery = f64::NEG_INFINITY;
            let mut final_parts = (0.0, 0.0, 0.0);
            for (offset, &(line, remaining, last_recorded)) in case.lines.iter().enumerate() {
                let flat = case.first_line + offset;
                if let Some(recorded) = last_recorded {
                    final_day = final_day.max(day_of(recorded));
                }
                if remaining == 0 {
                    continue;
                }
                let line = &self.lines[line];
                let lead = line.lead_time;
                let first_local =
                    scratch.first_release[flat] + lead + scratch.first_transport[index] + delay;
                first_day = first_day.min(day_of(first_local).saturating_add(line.origin));
                let delivered_local =
                    scratch.last_release[flat] + lead + scratch.line_transport[flat];
                final_day = final_day.max(day_of(delivered_local).saturating_add(line.origin));
                let delivered = delivered_local + f64::from(line.origin);
                if delivered > final_delivery {
                    final_delivery = delivered;
                    final_parts = (
                        (scratch.last_release[flat] + f64::from(line.origin) - contract.max(0.0))
                            .max(0.0),
                        lead,
                        scratch.line_transport[flat],
                    );
                }
            }
            if let Some(known) = case.known_first_delivery {
                first_day = day_of(known);
            } else {
                if case.promise.is_some() {
                    // Nothing is delivered before it is ordered, whatever was promised.
                    first_day = day_of(scratch.promised[index].max(contract));
                }
                if case.delay.is_some() || case.promise.is_some() {
                    final_day = final_day.max(first_day);
                }
                if first_day < 0 {
                    first_day = 0;
                    clamped[index] |= CLAMPED_FIRST;
                }
            }
            // From the first delivery as it now stands: real, or forecast and not before the
            // start.
            if case.span.is_some() && first_day != i32::MAX {
                let paced = f64::from(first_day) + scratch.span[index];
                final_day = final_day.max(day_of(paced));
            }
            if final_day < 0 {
                final_day = 0;
                clamped[index] |= CLAMPED_FINAL;
            }
            case_days.push([day_of(contract), first_day, final_day]);
            open_cases += 1;
            for (component, days) in scratch.paperwork_days[index].iter().enumerate() {
                sums[component] += days;
            }
            sums[PRODUCTION] += final_parts.0;
            sums[LEAD_TIME] += final_parts.1;
            sums[TRANSPORT] += final_parts.2;
        }
        if open_cases > 0 {
            for sum in &mut sums {
                *sum /= f64::from(open_cases);
            }
        }
        (case_days, sums, clamped)
    }
}

/// The backlog block's queue key: below every other, so it is never outranked.
const BACKLOG_KEY: u128 = 0;

/// Units built back to back by [`LineClock::build_units`].
struct UnitRun {
    units: u32,
    first_release: f64,
    last_release: f64,
}

/// The line's clock: time advances by building units at the scheduled rate, or by idling.
struct LineClock<'a> {
    segments: &'a [(f64, f64)],
    segment: usize,
    now: f64,
}

impl LineClock<'_> {
    fn segment_end(&self) -> f64 {
        self.segments
            .get(self.segment + 1)
            .map_or(f64::INFINITY, |next| next.0)
    }

    fn idle_until(&mut self, time: f64) {
        self.now = self.now.max(time);
        // The last segment runs for ever, even to a time drawn as infinite.
        while self.segment + 1 < self.segments.len() && self.segment_end() <= self.now {
            self.segment += 1;
        }
    }

    /// Builds up to `wanted` units back to back, each starting before `start_before`, within
    /// the current rate segment; a unit that would cross a rate change is built alone by
    /// [`LineClock::build_one_unit`]. Within a segment of rate `r` the `j`-th unit from
    /// `now` is released at `now + j / r`, computed in closed form so that a run of many
    /// units costs no more than one.
    fn build_units(&mut self, wanted: u32, start_before: f64) -> UnitRun {
        let rate = self.segments[self.segment].1;
        let end = self.segment_end();
        let now = self.now;
        if wanted == 0 {
            return UnitRun {
                units: 0,
                first_release: now,
                last_release: now,
            };
        }
        if rate > 0.0 {
            let release = |units: f64| now + units / rate;
            let cap = f64::from(wanted);
            // Units released by the end of the segment.
            let mut fitting = ((end - now) * rate).floor().min(cap).max(0.0);
            while fitting > 0.0 && release(fitting) > end {
                fitting -= 1.0;
            }
            if fitting < cap && release(fitting + 1.0) <= end {
                fitting += 1.0;
            }
            // Units whose start (the previous release) is before `start_before`.
            let mut starting = ((start_before - now) * rate).ceil().min(cap).max(1.0);
            while starting > 1.0 && release(starting - 1.0) >= start_before {
                starting -= 1.0;
            }
            if starting < cap && release(starting) < start_before {
                starting += 1.0;
            }
            let units = fitting.min(starting);
            if units >= 1.0 {
                self.now = release(units);
                return UnitRun {
                    units: units as u32,
                    first_release: release(1.0),
                    last_release: self.now,
                };
            }
        }
        let release = self.build_one_unit();
        UnitRun {
            units: 1,
            first_release: release,
            last_release: release,
        }
    }

    /// Builds one unit (one unit of work), crossing rate changes at the new rate; returns
    /// the release time. The last segment's rate is positive (validated), so this ends.
    fn build_one_unit(&mut self) -> f64 {
        let mut work = 1.0;
        loop {
            let rate = self.segments[self.segment].1;
            let end = self.segment_end();
            if rate > 0.0 {
                let finish = self.now + work / rate;
                if finish <= end {
                    self.now = finish;
                    return finish;
                }
                work -= (end - self.now) * rate;
            }
            self.now = end;
            self.segment += 1;
        }
    }
}

/// Units of work the line can do between two times.
fn capacity_between(segments: &[(f64, f64)], from: f64, to: f64) -> f64 {
    let mut total = 0.0;
    for (index, &(start, rate)) in segments.iter().enumerate() {
        let end = segments.get(index + 1).map_or(f64::INFINITY, |next| next.0);
        let overlap = end.min(to) - start.max(from);
        if overlap > 0.0 {
            total += overlap * rate;
        }
    }
    total
}

/// A line compiled for one run: its book date, backlog block, orders, rate plan and
/// sources of uncertainty. `order_rank` numbers the orders of every line in turn: orders
/// come before cases of the same tier and order time.
fn compile_line(
    scenario: &Scenario,
    index: usize,
    line: &Line,
    policy: Option<&Policy>,
    case_lines: Vec<usize>,
    order_rank: &mut u32,
) -> LineModel {
    let start = scenario.start;
    let book = book_date(scenario, index, line);
    let origin = i32::try_from(days_between(start, book) as i64).unwrap_or(i32::MIN);
    let on_clock = |date: Date| days_between(book, date);
    let steps: Vec<(f64, f64, bool)> = line
        .rate
        .iter()
        .enumerate()
        .map(|(at, step)| {
            let raises = at > 0 && step.per_year > line.rate[at - 1].per_year;
            (on_clock(step.from), step.per_year, raises)
        })
        .collect();
    let changes: Vec<(f64, f64)> = policy.map_or(Vec::new(), |policy| {
        policy
            .rate
            .iter()
            .filter(|change| change.line == index)
            .map(|change| (on_clock(change.from), change.multiplier))
            .collect()
    });
    let mut segments = Vec::new();
    line_segments(&steps, &changes, 0.0, 1.0, &mut segments);
    // A backlog that held this scenario's cases becomes other customers' dated orders, so
    // that each held case keeps its place by its own order date; any other backlog stays
    // one block ahead of every case.
    let (backlog, mut orders) = match line.backlog_as_of {
        Some(as_of) if line.backlog_includes_cases && line.backlog > 0 => (
            0,
            backlog_orders(scenario, index, line, as_of, &on_clock, order_rank),
        ),
        _ => (line.backlog, Vec::new()),
    };
    orders.extend(line.orders.iter().map(|order| {
        let time = on_clock(order.date);
        let key = Waiting::key(order.tier, time, *order_rank);
        *order_rank = order_rank.saturating_add(1);
        (time, key, order.units)
    }));
    LineModel {
        origin,
        lead_time: line.lead_time_days,
        backlog,
        backlog_at: on_clock(line.backlog_as_of.unwrap_or(start)),
        orders,
        steps,
        changes,
        segments,
        rate_multiplier_median: line
            .rate_multiplier
            .as_ref()
            .map_or(1.0, DurationDist::median),
        rate_multiplier: line.rate_multiplier.clone(),
        ramp_slip_median: line.ramp_slip.as_ref().map_or(0.0, DurationDist::median),
        ramp_slip: line.ramp_slip.clone(),
        case_lines,
    }
}

/// The other customers' units of a backlog that held this scenario's cases (issue 8 §1,
/// `includes_cases = true`), as dated orders on the line clock `(time, queue key, units)`.
///
/// The dates of the orders inside a stated backlog are not published, so the units left
/// once the cases are taken out are taken as ordered evenly over the time the line needs to
/// build them at its planned rate on `as_of`: unit `k` of `n` (from 0) on
/// `as_of − (n − k) / rate`, the oldest first, the newest one unit's build time before
/// `as_of`, at the backlog's tier (default 1, a case's default; a portfolio whose cases
/// sit at another tier states it). This is what a line working off its book in order looks
/// like, and it lets a case of that tier ordered early inside the backlog go before the
/// later part of it, as its contract date says (tier, then order date, then id:
/// DESIGN.md), while a case ordered after `as_of` waits behind all of it. Where the line builds nothing on `as_of`, the first
/// positive planned rate after it spaces the orders.
///
/// Units whose order times no other entry of the queue falls between are served back to
/// back anyway, so they are kept as one order, cut only at the order dates of the line's
/// cases and orders: the queue grows by a few entries, not by one per unit. Each part is
/// keyed by its oldest unit, and the parts rank before the line's own orders and every
/// case, so a unit ordered on the day of a case or an order still goes first.
fn backlog_orders(
    scenario: &Scenario,
    index: usize,
    line: &Line,
    as_of: Date,
    on_clock: &dyn Fn(Date) -> f64,
    order_rank: &mut u32,
) -> Vec<(f64, u128, u32)> {
    let units = line.backlog;
    let spread = SpreadBacklog::of(line, as_of, on_clock(as_of));
    let case_dates = scenario
        .cases
        .iter()
        .filter(|case| case.lines.iter().any(|case_line| case_line.line == index))
        .filter_map(|case| case.order_date);
    let order_dates = line.orders.iter().map(|order| order.date);
    let mut cuts: Vec<u32> = case_dates
        .chain(order_dates)
        .map(|date| spread.ordered_by(on_clock(date)))
        .chain([0, units])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|part| {
            let time = spread.unit_time(part[0]);
            let key = Waiting::key(line.backlog_tier, time, *order_rank);
            *order_rank = order_rank.saturating_add(1);
            (time, key, part[1] - part[0])
        })
        .collect()
}

/// A backlog that held the scenario's cases, as other customers' orders spread evenly
/// before its date at the planned rate (see [`backlog_orders`]). The engine and the queue
/// view ([`crate::queue`]) both read the orders' dates from here, so they agree on who goes
/// first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpreadBacklog {
    units: u32,
    /// The backlog's date on the caller's clock.
    end: f64,
    days_per_unit: f64,
}

impl SpreadBacklog {
    /// The backlog of `line`, stated on `as_of` (at `end` on the caller's clock). The
    /// orders are spaced by the planned rate on `as_of`; where the line builds nothing on
    /// that day, by the first positive planned rate after it; with none, all fall on `as_of`.
    pub(crate) fn of(line: &Line, as_of: Date, end: f64) -> Self {
        let planned = line
            .rate
            .iter()
            .rev()
            .find(|step| step.from <= as_of)
            .map_or(0.0, |step| step.per_year);
        let per_year = if planned > 0.0 {
            planned
        } else {
            line.rate
                .iter()
                .find(|step| step.from > as_of && step.per_year > 0.0)
                .map_or(0.0, |step| step.per_year)
        };
        let days_per_unit = if per_year > 0.0 {
            365.0 / per_year
        } else {
            0.0
        };
        SpreadBacklog {
            units: line.backlog,
            end,
            days_per_unit,
        }
    }

    /// When unit `unit` (from 0, the oldest first) was ordered: the newest one unit's build
    /// time before the backlog's date.
    pub(crate) fn unit_time(&self, unit: u32) -> f64 {
        self.end - f64::from(self.units - unit) * self.days_per_unit
    }

    /// How many of the units were ordered at or before `time`.
    pub(crate) fn ordered_by(&self, time: f64) -> u32 {
        let (mut low, mut high) = (0_u32, self.units);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.unit_time(middle) <= time {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

/// The day a line's order book opens (issue 8 §1), so that production between then and
/// the start drains the queue before the forecast begins:
///
/// - a backlog stated as of a date opens it on that date: the statement is what the queue
///   held then, so nothing before it is simulated, and orders and cases dated earlier join
///   the queue on that date, in their order, behind the backlog (building them earlier
///   would deliver units the facts do not record); when the backlog holds the cases, it is
///   itself dated orders, and the cases dated earlier take their places among them;
/// - a line with dated orders and no dated backlog opens on the earliest of its orders'
///   and its cases' order dates;
/// - a line with neither (the plain integer backlog, which states the queue on the start)
///   opens on the start.
fn book_date(scenario: &Scenario, index: usize, line: &Line) -> Date {
    let start = scenario.start;
    if let Some(as_of) = line.backlog_as_of {
        return as_of.min(start);
    }
    if line.orders.is_empty() {
        return start;
    }
    let mut earliest = start;
    for order in &line.orders {
        earliest = earliest.min(order.date);
    }
    for case in &scenario.cases {
        let Some(ordered) = case.order_date else {
            continue;
        };
        let builds_here = case
            .lines
            .iter()
            .any(|case_line| case_line.line == index && case_line.delivered < case_line.quantity);
        if builds_here && !case.is_delivered() {
            earliest = earliest.min(ordered);
        }
    }
    earliest
}

/// The rate plan on the line's clock as `(start, units per day)` segments from the book
/// date on: each planned step from its date (a step that raises the rate `slip` days
/// later), a policy's factors from theirs, the whole times the realised `multiplier`.
/// Before the first step the line builds nothing; where slipped steps cross, the later
/// step in the plan wins.
fn line_segments(
    steps: &[(f64, f64, bool)],
    changes: &[(f64, f64)],
    slip: f64,
    multiplier: f64,
    segments: &mut Vec<(f64, f64)>,
) {
    let effective = |&(from, _, raises): &(f64, f64, bool)| {
        if raises { from + slip } else { from }
    };
    let mut breakpoints: Vec<f64> = vec![0.0];
    breakpoints.extend(steps.iter().map(effective));
    breakpoints.extend(changes.iter().map(|change| change.0));
    breakpoints.retain(|&time| time >= 0.0);
    breakpoints.sort_by(f64::total_cmp);
    breakpoints.dedup();
    segments.clear();
    segments.extend(breakpoints.into_iter().map(|time| {
        let base = steps
            .iter()
            .rev()
            .find(|step| effective(step) <= time)
            .map_or(0.0, |step| step.1);
        let factor: f64 = changes
            .iter()
            .filter(|change| change.0 <= time)
            .map(|change| change.1)
            .product();
        (time, base * factor / 365.0 * multiplier)
    }));
}

/// Each case line's rank in (case id, line index) order.
fn case_line_ranks(owners: &[(usize, usize)], id_ranks: &[u32]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..owners.len()).collect();
    order.sort_by_key(|&flat| (id_ranks[owners[flat].0], owners[flat].1));
    let mut ranks = vec![0; owners.len()];
    for (rank, flat) in order.into_iter().enumerate() {
        ranks[flat] = u32::try_from(rank).unwrap_or(u32::MAX);
    }
    ranks
}

/// Each case's rank in case-id order, the third priority key.
fn id_ranks(scenario: &Scenario) -> Vec<u32> {
    let mut order: Vec<usize> = (0..scenario.cases.len()).collect();
    order.sort_by(|&a, &b| scenario.cases[a].id.cmp(&scenario.cases[b].id));
    let mut ranks = vec![0; scenario.cases.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = u32::try_from(rank).unwrap_or(u32::MAX);
    }
    ranks
}

fn tier_of(case: &Case, policy: Option<&Policy>) -> u32 {
    policy
        .and_then(|policy| {
            policy
                .tier
                .iter()
                .rev()
                .find(|change| change.purchasers.contains(&case.purchaser))
        })
        .map_or(case.tier, |change| change.tier)
}

fn compile_case(
    scenario: &Scenario,
    case: &Case,
    policy: Option<&Policy>,
    first_line: usize,
) -> (CaseModel, Option<Stage>) {
    let start = scenario.start;
    let elapsed = days_between(case.since, start);
    let times = scenario.channel_times(case.channel);
    let scale_of = |stage: Stage| {
        policy
            .and_then(|policy| policy.stage_scale.get(&stage).copied())
            .unwrap_or(1.0)
    };
    let mut paperwork = Vec::new();
    let mut overdue = None;
    if is_paperwork(case.stage) {
        let remaining_stages = Stage::FORWARD
            .iter()
            .copied()
            .skip_while(|&stage| stage != case.stage);
        for stage in remaining_stages.take_while(|&stage| is_paperwork(stage)) {
            let spent = if stage == case.stage { elapsed } else { 0.0 };
            let duration = if stage == Stage::CongressionalReview && case.channel == Channel::Fms {
                let days = f64::from(case.congressional_review_days);
                if spent > days {
                    overdue = Some(stage);
                }
                StepDuration::Statutory {
                    remaining: (days - spent).max(0.0),
                }
            } else {
                match times.and_then(|times| times.stages.get(&stage)) {
                    Some(dist) => {
                        if dist.is_overrun_by(spent) {
                            overdue = Some(stage);
                        }
                        StepDuration::Drawn {
                            dist: dist.clone(),
                            given: dist.conditioned_on(spent),
                        }
                    }
                    None => StepDuration::Statutory { remaining: 0.0 },
                }
            };
            let median = match &duration {
                StepDuration::Drawn { dist, given } => given.median(dist),
                StepDuration::Statutory { remaining } => *remaining,
            };
            paperwork.push(StageStep {
                component: component_of(stage),
                duration,
                scale: scale_of(stage),
                median,
            });
        }
    }
    let day = |date: Date| days_between(start, date);
    let delivered = case.is_delivered().then(|| {
        let first = case.first_delivery().unwrap_or(case.since);
        [
            day(case.order_date.unwrap_or(first)),
            day(first),
            day(case.since),
        ]
    });
    let known_first_delivery = case.first_delivery().map(day);
    // Each: the first of the case's lines that sets one, else the channel's.
    let of_lines_or_channel =
        |of_line: fn(&Line) -> &Option<DurationDist>,
         of_channel: fn(&ChannelTimes) -> &Option<DurationDist>| {
            case.lines
                .iter()
                .find_map(|line| of_line(&scenario.lines[line.line]).clone())
                .or_else(|| times.and_then(|times| of_channel(times).clone()))
        };
    let nothing_delivered = known_first_delivery.is_none() && delivered.is_none();
    // A promise with a slip to draw it by takes the place of the production model's first
    // delivery and its delay (the slip was measured against the promise alone).
    let promise = case
        .promised_first_delivery
        .filter(|_| nothing_delivered)
        .zip(times.and_then(|times| times.promise_slip.clone()))
        .map(|(promised, slip)| Promise::new(day(promised), slip));
    // The first-delivery delay only for a new configuration with nothing delivered yet.
    let delay = (case.new_configuration && nothing_delivered && promise.is_none())
        .then(|| {
            of_lines_or_channel(
                |line| &line.first_delivery_delay,
                |times| &times.first_delivery_delay,
            )
        })
        .flatten();
    // The delivery span for every case with units still to deliver.
    let span = delivered
        .is_none()
        .then(|| of_lines_or_channel(|line| &line.delivery_span, |times| &times.delivery_span))
        .flatten();
    // Scaled for the order on the first of its lines that states how.
    let span_scale = case
        .lines
        .iter()
        .find_map(|line| {
            let scale = scenario.lines[line.line].delivery_span_scale?;
            Some(scale.factor(f64::from(line.quantity)))
        })
        .unwrap_or(1.0);
    let transport = times.and_then(|times| times.transport.clone());
    let model = CaseModel {
        tier: tier_of(case, policy),
        known_contract: case.order_date.map(day),
        known_first_delivery,
        delivered,
        paperwork,
        transport_median: transport.as_ref().map_or(0.0, DurationDist::median),
        transport,
        transport_scale: policy
            .and_then(|policy| policy.transport_scale)
            .unwrap_or(1.0),
        delay_median: delay.as_ref().map_or(0.0, DurationDist::median),
        delay,
        promise,
        span_median: span.as_ref().map_or(0.0, DurationDist::median),
        span,
        span_scale,
        first_line,
        lines: case
            .lines
            .iter()
            .map(|line| {
                (
                    line.line,
                    line.quantity - line.delivered.min(line.quantity),
                    line.last_delivery.map(day),
                )
            })
            .collect(),
    };
    (model, overdue)
}
