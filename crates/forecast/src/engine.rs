//! One Monte Carlo trial: paperwork, production queues, delivery (issue 3, "Semantics").
//!
//! [`Model::compile`] turns a scenario and an optional policy into flat arrays, once per
//! run; [`Model::simulate`] then plays one trial on its own random stream. Time is
//! continuous, in days since the scenario start.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use expedite_core::{Channel, Date, Stage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dist::{Conditioned, DurationDist};
use crate::scenario::{Case, Policy, Scenario, is_paperwork};

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
    /// Contract time when the case is already on contract (`since - start`, not positive).
    known_contract: Option<f64>,
    /// First delivery already happened (stage `delivering`) on this day.
    known_first_delivery: Option<f64>,
    /// Nothing left to build (stage `delivered`).
    delivered_at: Option<f64>,
    paperwork: Vec<StageStep>,
    transport: Option<DurationDist>,
    transport_scale: f64,
    /// Offset of this case's lines in the flat per-case-line arrays.
    first_line: usize,
    lines: Vec<(usize, u32)>,
}

#[derive(Debug, Clone)]
struct LineModel {
    backlog: u32,
    lead_time: f64,
    /// `(start, units per day)`, the first starting at 0, each until the next.
    segments: Vec<(f64, f64)>,
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
    /// For each flat case line: its case's tier, its quantity, and its rank in (case id,
    /// line index) order: what the queue needs, kept together so that a unit joining the
    /// queue reads one small record.
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
}

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
        let mut lines: Vec<LineModel> = scenario
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| LineModel {
                backlog: line.backlog,
                lead_time: line.lead_time_days,
                segments: rate_segments(scenario, index, policy),
                case_lines: Vec::new(),
            })
            .collect();
        for (index, case) in scenario.cases.iter().enumerate() {
            let first_line = case_line_owner.len();
            for (line_in_case, line) in case.lines.iter().enumerate() {
                lines[line.line].case_lines.push(case_line_owner.len());
                case_line_owner.push((index, line_in_case));
            }
            let (model, overrun) = compile_case(scenario, case, policy, first_line);
            cases.push(model);
            overdue.push(overrun);
        }
        let target_day = scenario
            .target
            .map(|target| day_of(days_between(scenario.start, target)));
        let case_line_queue_facts = case_line_ranks(&case_line_owner, &id_ranks)
            .into_iter()
            .zip(&case_line_owner)
            .map(|(rank, &(case, line))| (cases[case].tier, cases[case].lines[line].1, rank))
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

    /// Plays trial `trial` on its own stream: ChaCha8 seeded with the scenario seed, stream
    /// id = trial index (STYLE.md habit 8). Every run uses the same stream for the same trial,
    /// so policies are compared on common random numbers.
    pub fn simulate(&self, trial: u64, scratch: &mut Scratch) -> TrialOutcome {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(trial);
        self.draw_paperwork_and_transport(&mut rng, scratch);
        let (line_clear_days, line_utilisation) = self.produce(scratch);
        let (case_days, component_days) = self.deliver(scratch);
        TrialOutcome {
            case_days,
            line_clear_days,
            line_utilisation,
            component_days,
        }
    }

    /// Draws, in case order, each remaining paperwork stage, then one transport time per
    /// case line and one for the first delivery. The order of draws does not depend on the
    /// policy, which keeps the random numbers common.
    fn draw_paperwork_and_transport(&self, rng: &mut ChaCha8Rng, scratch: &mut Scratch) {
        let flat_lines = self.case_line_owner.len();
        scratch.contract.clear();
        scratch.paperwork_days.clear();
        scratch.line_transport.clear();
        scratch.line_transport.resize(flat_lines, 0.0);
        scratch.first_transport.clear();
        for case in &self.cases {
            let mut days = [0.0; PRODUCTION];
            let mut contract = 0.0;
            for step in &case.paperwork {
                let raw = match &step.duration {
                    StepDuration::Drawn { dist, given } => given.sample(dist, rng),
                    StepDuration::Statutory { remaining } => *remaining,
                };
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
                Some(dist) if case.delivered_at.is_none() => {
                    let days = dist.sample(rng);
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

    /// Runs every line's queue; returns each line's clear day and utilisation.
    fn produce(&self, scratch: &mut Scratch) -> (Vec<i32>, Vec<f64>) {
        let flat_lines = self.case_line_owner.len();
        scratch.first_release.clear();
        scratch.first_release.resize(flat_lines, f64::NAN);
        scratch.last_release.clear();
        scratch.last_release.resize(flat_lines, f64::NAN);
        let mut clear_days = Vec::with_capacity(self.lines.len());
        let mut utilisation = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let (clear, built) = self.run_line(line, scratch);
            clear_days.push(day_of(clear));
            let offered = capacity_between(&line.segments, 0.0, clear);
            utilisation.push(if offered > 0.0 {
                built as f64 / offered
            } else {
                0.0
            });
        }
        (clear_days, utilisation)
    }

    /// One line's queue (issue 3, "Production"): one unit at a time, each needing one unit of
    /// work at the piecewise-constant rate; at each release the line takes the waiting unit
    /// with the smallest (tier, contract time, case id, line index, unit index), backlog
    /// first; with nothing waiting it idles and the capacity is lost. Returns the last
    /// release time and the number of units built.
    fn run_line(&self, line: &LineModel, scratch: &mut Scratch) -> (f64, u64) {
        scratch.arrivals.clear();
        for &case_line in &line.case_lines {
            let (case, _) = self.case_line_owner[case_line];
            if self.cases[case].delivered_at.is_none() {
                scratch.arrivals.push((scratch.contract[case], case_line));
            }
        }
        scratch
            .arrivals
            .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        scratch.waiting.clear();
        let mut clock = LineClock {
            segments: &line.segments,
            segment: 0,
            now: 0.0,
        };
        let mut backlog = line.backlog;
        let mut next_arrival = 0;
        let mut built: u64 = 0;
        let mut last_release = 0.0;
        // The case line being built is kept out of the heap, so that building a unit costs
        // no heap operation; it goes back only when a new arrival may outrank it.
        let mut current: Option<Waiting> = None;
        loop {
            // An arrival at the same instant as a release is considered for the next unit.
            while let Some(&(contract, case_line)) = scratch.arrivals.get(next_arrival)
                && contract <= clock.now
            {
                scratch
                    .waiting
                    .push(Reverse(self.waiting_for(case_line, contract)));
                next_arrival += 1;
            }
            let from_backlog = backlog > 0;
            if !from_backlog {
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
                if current.is_none() {
                    match scratch.arrivals.get(next_arrival) {
                        Some(&(contract, _)) => {
                            clock.idle_until(contract);
                            continue;
                        }
                        None => break,
                    }
                }
            }
            // Build the head's units back to back while no arrival can outrank them: the
            // backlog is never outranked; a case line only by arrivals from the next one on.
            let next_time = scratch
                .arrivals
                .get(next_arrival)
                .map_or(f64::INFINITY, |arrival| arrival.0);
            let (wanted, start_before) = match (&current, from_backlog) {
                (_, true) => (backlog, f64::INFINITY),
                (Some(unit), false) => (unit.remaining, next_time),
                (None, false) => (0, next_time),
            };
            let run = clock.build_units(wanted, start_before);
            built += u64::from(run.units);
            last_release = run.last_release;
            if from_backlog {
                backlog -= run.units;
                continue;
            }
            if let Some(unit) = current.as_mut() {
                if scratch.first_release[unit.case_line].is_nan() {
                    scratch.first_release[unit.case_line] = run.first_release;
                }
                unit.remaining -= run.units;
                if unit.remaining == 0 {
                    scratch.last_release[unit.case_line] = run.last_release;
                    current = None;
                }
            }
        }
        (last_release, built)
    }

    fn waiting_for(&self, case_line: usize, contract: f64) -> Waiting {
        let (tier, quantity, rank) = self.case_line_queue_facts[case_line];
        Waiting {
            key: Waiting::key(tier, contract, rank),
            case_line,
            remaining: quantity,
        }
    }

    /// Delivery (issue 3): a case line is delivered at its last unit's completion plus its
    /// transport; the case's final delivery is the latest line; its first delivery the
    /// earliest unit completion plus one more transport draw.
    fn deliver(&self, scratch: &Scratch) -> (Vec<[i32; 3]>, [f64; COMPONENTS.len()]) {
        let mut case_days = Vec::with_capacity(self.cases.len());
        let mut sums = [0.0; COMPONENTS.len()];
        let mut open_cases = 0_u32;
        for (index, case) in self.cases.iter().enumerate() {
            let contract = scratch.contract[index];
            if let Some(done) = case.delivered_at {
                let day = day_of(done);
                case_days.push([day, day, day]);
                continue;
            }
            let mut first_completion = f64::INFINITY;
            let mut final_delivery = f64::NEG_INFINITY;
            let mut final_parts = (0.0, 0.0, 0.0);
            for (offset, &(line, _)) in case.lines.iter().enumerate() {
                let flat = case.first_line + offset;
                let lead = self.lines[line].lead_time;
                first_completion = first_completion.min(scratch.first_release[flat] + lead);
                let delivered = scratch.last_release[flat] + lead + scratch.line_transport[flat];
                if delivered > final_delivery {
                    final_delivery = delivered;
                    final_parts = (
                        scratch.last_release[flat] - contract.max(0.0),
                        lead,
                        scratch.line_transport[flat],
                    );
                }
            }
            let first_delivery = case
                .known_first_delivery
                .unwrap_or(first_completion + scratch.first_transport[index]);
            case_days.push([
                day_of(contract),
                day_of(first_delivery),
                day_of(final_delivery),
            ]);
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
        (case_days, sums)
    }
}

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

/// The rate schedule from the start on, as `(start, units per day)` segments, with a
/// policy's multipliers applied from their dates. Before the first step the line builds
/// nothing.
fn rate_segments(scenario: &Scenario, line: usize, policy: Option<&Policy>) -> Vec<(f64, f64)> {
    let steps = &scenario.lines[line].rate;
    let changes: Vec<_> = policy.map_or(Vec::new(), |policy| {
        policy
            .rate
            .iter()
            .filter(|change| change.line == line)
            .copied()
            .collect()
    });
    let mut breakpoints: Vec<f64> = vec![0.0];
    breakpoints.extend(
        steps
            .iter()
            .map(|step| days_between(scenario.start, step.from)),
    );
    breakpoints.extend(
        changes
            .iter()
            .map(|change| days_between(scenario.start, change.from)),
    );
    breakpoints.retain(|&time| time >= 0.0);
    breakpoints.sort_by(f64::total_cmp);
    breakpoints.dedup();
    breakpoints
        .into_iter()
        .map(|time| {
            let base = steps
                .iter()
                .rev()
                .find(|step| days_between(scenario.start, step.from) <= time)
                .map_or(0.0, |step| step.per_year);
            let factor: f64 = changes
                .iter()
                .filter(|change| days_between(scenario.start, change.from) <= time)
                .map(|change| change.multiplier)
                .product();
            (time, base * factor / 365.0)
        })
        .collect()
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
    let elapsed = days_between(case.since, scenario.start);
    let since = -elapsed;
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
            paperwork.push(StageStep {
                component: component_of(stage),
                duration,
                scale: scale_of(stage),
            });
        }
    }
    let on_contract = !is_paperwork(case.stage);
    let model = CaseModel {
        tier: tier_of(case, policy),
        known_contract: on_contract.then_some(since),
        known_first_delivery: (case.stage == Stage::Delivering).then_some(since),
        delivered_at: (case.stage == Stage::Delivered).then_some(since),
        paperwork,
        transport: times.and_then(|times| times.transport.clone()),
        transport_scale: policy
            .and_then(|policy| policy.transport_scale)
            .unwrap_or(1.0),
        first_line,
        lines: case
            .lines
            .iter()
            .map(|line| (line.line, line.quantity))
            .collect(),
    };
    (model, overdue)
}
