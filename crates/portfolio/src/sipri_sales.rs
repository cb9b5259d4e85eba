//! The sales of a SIPRI trade register as timelines, so that `expedite backtest --sipri`
//! can test the forecast on real sales the calibration never saw (issue 8, "the same holds
//! on real sales that the calibration never saw").
//!
//! A register row is one deal: recipient, supplier, year of order, number ordered, the
//! weapon's designation and the years of delivery. Kept are the United States' deals of new
//! weapons to a state whose designation maps to a line of the capacity catalog (the
//! catalog's `[[mapping]]` rules, as for a DSCA notification's item). Each becomes a sale
//! with year dates, read as the middle of the year (1 July, [`Precision::Year`]): the order
//! year is its LOA, the first delivery year its first delivery, and the last delivery year
//! its final delivery where everything ordered was delivered. The register does not say
//! whether a deal was an FMS case; these lines sell through FMS, so every deal is taken as
//! one (a stated assumption).
//!
//! Left out, each with its reason: deals the catalog's timelines already hold (same buyer,
//! line and LOA year within one year: the shipped calibration was fitted on them), deals
//! selected but not yet ordered, deals produced under licence in the buyer's country (not
//! on the catalog's line), deals without a number ordered, and, unless the sales feed a
//! calibration (`expedite calibrate --register`), deals first delivered in their order year
//! (at year resolution the forecast, made the day after 1 July, cannot precede the
//! delivery).
//!
//! Pure: the caller reads the register ([`expedite_data::sipri`]); nothing here does I/O.

use expedite_core::{Channel, Country, Date};
use expedite_data::capacity::Catalog;
use expedite_data::sipri::{Deal, TradeRegister};
use expedite_data::timelines::{Milestone, Milestones, Precision, Timeline};

/// The sales taken from a register, and the deals on catalog lines left out.
#[derive(Debug, Clone)]
pub struct RegisterSales {
    /// One timeline per kept deal, in register order.
    pub timelines: Vec<Timeline>,
    /// Deals on catalog lines that were not kept, with why.
    pub left_out: Vec<LeftOut>,
}

/// A register deal on a catalog line that is not tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// What the deal is, in words (`SIPRI line N: recipient, designation, ordered YEAR`).
    pub deal: String,
    /// Why it is left out.
    pub reason: String,
}

/// Which deals to take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    /// The first order year taken.
    pub ordered_from: Option<i32>,
    /// The first order year no longer taken.
    pub ordered_before: Option<i32>,
    /// The sales feed a calibration, not forecasts: deals first delivered in their order
    /// year are kept (a fit describes every deal; only a forecast made after 1 July cannot
    /// precede them).
    pub for_calibration: bool,
}

impl Selection {
    fn takes_order_year(self, year: i32) -> bool {
        self.ordered_from.is_none_or(|from| year >= from)
            && self.ordered_before.is_none_or(|before| year < before)
    }
}

/// The US sales on catalog lines of `register` (see the module documentation), of the deals
/// `selection` takes; `known` are the timelines the calibration was fitted on.
pub fn register_sales(
    register: &TradeRegister,
    catalog: &Catalog,
    known: &[Timeline],
    selection: Selection,
) -> RegisterSales {
    let mut sales = RegisterSales {
        timelines: Vec::new(),
        left_out: Vec::new(),
    };
    for deal in &register.deals {
        let Some(supplier) = deal
            .supplier
            .country
            .filter(|country| country.iso3() == "USA")
        else {
            continue;
        };
        if !selection.takes_order_year(deal.order_year) {
            continue;
        }
        let Some(line) = catalog.line_for_item(&deal.designation) else {
            continue;
        };
        match sale(deal, supplier, line, known, selection.for_calibration) {
            Ok(timeline) => sales.timelines.push(timeline),
            Err(reason) => sales.left_out.push(LeftOut {
                deal: format!(
                    "SIPRI line {}: {}, {}, ordered {}",
                    deal.line, deal.recipient, deal.designation, deal.order_year
                ),
                reason,
            }),
        }
    }
    sales
}

/// The sale of one deal by `supplier` on `line`, or why it is left out.
fn sale(
    deal: &Deal,
    supplier: Country,
    line: &str,
    known: &[Timeline],
    for_calibration: bool,
) -> Result<Timeline, String> {
    if deal.status.is_second_hand() {
        return Err(format!("{}: not built on the line", deal.status.as_str()));
    }
    let purchaser = deal
        .recipient
        .country
        .ok_or_else(|| "the recipient is not a state".to_owned())?;
    let comments = deal.comments.to_lowercase();
    if comments.contains("not yet ordered") {
        return Err("selected but not yet ordered: no order date".to_owned());
    }
    if comments.contains("produced under licence") || deal.local_production == Some(true) {
        return Err("produced under licence in the buyer's country, not on the line".to_owned());
    }
    let quantity = deal
        .number_ordered
        .filter(|&number| number > 0)
        .ok_or_else(|| "no number ordered".to_owned())?;
    if !for_calibration && deal.first_delivery_year() == Some(deal.order_year) {
        return Err(
            "first delivered in its order year: at year resolution no forecast precedes it"
                .to_owned(),
        );
    }
    if let Some(same) = known_sale(known, purchaser, line, deal.order_year) {
        return Err(format!(
            "the same sale as timeline {same}, which the shipped calibration was fitted on"
        ));
    }
    let loa = mid_year(deal.order_year)?;
    let first_delivery = deal.first_delivery_year().map(mid_year).transpose()?;
    let final_delivery = deal
        .is_fully_delivered()
        .then(|| deal.last_delivery_year().map(mid_year))
        .flatten()
        .transpose()?;
    Ok(Timeline {
        id: format!(
            "{}-{}-{}-SIPRI{}",
            purchaser.iso3(),
            line.to_uppercase(),
            deal.order_year,
            deal.line
        ),
        buyer: deal.recipient.name.clone(),
        purchaser,
        supplier,
        channel: Channel::Fms,
        system: deal.designation.clone(),
        line: Some(line.to_owned()),
        quantity,
        value_usd: None,
        milestones: Milestones {
            loa: Some(loa),
            first_delivery,
            final_delivery,
            ..Milestones::default()
        },
        // The register's comments state a planned delivery for some deals, undated.
        promise: None,
        notes: "SIPRI trade register deal: years only, read as 1 July; taken as FMS".to_owned(),
        sources: Vec::new(),
        file_line: deal.line,
    })
}

/// The id of a known timeline of the same buyer and line whose LOA (or notification) year is
/// within one year of `order_year`.
fn known_sale<'a>(
    known: &'a [Timeline],
    purchaser: Country,
    line: &str,
    order_year: i32,
) -> Option<&'a str> {
    known
        .iter()
        .find(|timeline| {
            let signed = timeline.milestones.loa.or(timeline.milestones.notification);
            timeline.purchaser == purchaser
                && timeline.line.as_deref() == Some(line)
                && signed.is_some_and(|milestone| {
                    (i32::from(milestone.date.year()) - order_year).abs() <= 1
                })
        })
        .map(|timeline| timeline.id.as_str())
}

/// 1 July of `year`, marked as known to the year only.
fn mid_year(year: i32) -> Result<Milestone, String> {
    let date = i16::try_from(year)
        .ok()
        .and_then(|year| Date::new(year, 7, 1).ok())
        .ok_or_else(|| format!("year {year} is outside the calendar"))?;
    Ok(Milestone {
        date,
        precision: Precision::Year,
    })
}

#[cfg(test)]
mod tests {
    use expedite_core::Date;
    use expedite_data::capacity::Catalog;
    use expedite_data::sipri;
    use expedite_data::timelines::{Precision, Timeline};

    use super::*;

    /// Hand-made rows in the layout of SIPRI's per-deal export (not SIPRI data): one deal of
    /// each kind the module keeps or leaves out.
    const REGISTER: &str = "\
Transfers of major conventional arms: expedite's hand-made test rows (not SIPRI data).
A '?' in a column indicates uncertain data.
.
.
.
.
.
.
.
Source: expedite test fixture.
Data generated: 1 Jan 2026 12:00:00 PM
Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,Weapon description,Number delivered, ,Year(s) of delivery,status,Comments,SIPRI TIV per unit,SIPRI TIV for total order,SIPRI TIV of delivered weapons
Norway,United States,2016,,12,,HIMARS,self-propelled MRL,12,,2019; 2020,New,,5,60,60
Italy,United States,2024,,21,,HIMARS,self-propelled MRL,0,,,New,,5,105,0
Poland,United States,2019,,20,,HIMARS,self-propelled MRL,20,,2023; 2024,New,,5,100,100
Japan,United States,2020,,63,,F-35A Lightning-2,FGA aircraft,0,,,New,Produced under licence in Japan,80,5040,0
Estonia,United States,2019,,128,,FGM-148 Javelin,anti-tank missile,128,,2019,New,,0.1,12.8,12.8
Ukraine,United States,2022,,39,,HIMARS,self-propelled MRL,39,,2022; 2023,Second hand,,3,117,117
Canada,United States,2022,,88,,F-35A Lightning-2,FGA aircraft,0,,,New,selected but not yet ordered by end-2022,80,7040,0
Sweden,United States,2023,,,,AIM-120C AMRAAM,BVRAAM,0,,,New,,0.5,,0
NATO**,United States,2021,,3,,HIMARS,self-propelled MRL,0,,,New,,5,15,0
Poland,South Korea,2022,,180,,K2,tank,180,,2022; 2023,New,,4,720,720
Norway,United States,2018,,2,,Test radar C,air search radar,2,,2020,New,,5,10,10
";

    fn sales(ordered_from: Option<i32>) -> RegisterSales {
        let register = sipri::read(REGISTER.as_bytes(), "test rows").expect("valid rows");
        let catalog = Catalog::builtin().expect("catalog");
        let known = Timeline::builtin().expect("timelines");
        register_sales(
            &register,
            &catalog,
            &known,
            Selection {
                ordered_from,
                ..Selection::default()
            },
        )
    }

    fn mid_year_of(year: i16) -> Option<Milestone> {
        Some(Milestone {
            date: Date::new(year, 7, 1).expect("a date"),
            precision: Precision::Year,
        })
    }

    #[test]
    fn a_us_deal_on_a_catalog_line_is_a_sale_dated_in_the_middle_of_its_years() {
        let sales = sales(None);
        let ids: Vec<&str> = sales.timelines.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["NOR-HIMARS-2016-SIPRI13", "ITA-HIMARS-2024-SIPRI14"]);
        let norway = &sales.timelines[0];
        assert_eq!(norway.line.as_deref(), Some("himars"));
        assert_eq!(norway.quantity, 12);
        assert_eq!(norway.channel, Channel::Fms);
        assert_eq!(norway.milestones.loa, mid_year_of(2016));
        assert_eq!(norway.milestones.first_delivery, mid_year_of(2019));
        assert_eq!(norway.milestones.final_delivery, mid_year_of(2020));
        assert_eq!(norway.milestones.notification, None);
        let italy = &sales.timelines[1];
        assert_eq!(italy.milestones.first_delivery, None, "not delivered yet");
    }

    #[test]
    fn deals_that_cannot_be_tested_fairly_are_left_out_with_their_reason() {
        let reasons: Vec<String> = sales(None)
            .left_out
            .iter()
            .map(|left| format!("{} => {}", left.deal, left.reason))
            .collect();
        let expected = [
            "Poland, HIMARS, ordered 2019 => the same sale as timeline POL-HIMARS-2019",
            "Japan, F-35A Lightning-2, ordered 2020 => produced under licence",
            "Estonia, FGM-148 Javelin, ordered 2019 => first delivered in its order year",
            "Ukraine, HIMARS, ordered 2022 => Second hand: not built on the line",
            "Canada, F-35A Lightning-2, ordered 2022 => selected but not yet ordered",
            "Sweden, AIM-120C AMRAAM, ordered 2023 => no number ordered",
            "NATO**, HIMARS, ordered 2021 => the recipient is not a state",
        ];
        assert_eq!(reasons.len(), expected.len(), "{reasons:#?}");
        for (reason, expected) in reasons.iter().zip(expected) {
            assert!(reason.contains(expected), "{reason} should say {expected}");
        }
    }

    #[test]
    fn a_calibration_keeps_a_deal_first_delivered_in_its_order_year_and_stops_at_ordered_before() {
        let register = sipri::read(REGISTER.as_bytes(), "test rows").expect("valid rows");
        let catalog = Catalog::builtin().expect("catalog");
        let known = Timeline::builtin().expect("timelines");
        let selection = Selection {
            ordered_from: None,
            ordered_before: Some(2020),
            for_calibration: true,
        };
        let sales = register_sales(&register, &catalog, &known, selection);
        let ids: Vec<&str> = sales.timelines.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["NOR-HIMARS-2016-SIPRI13", "EST-JAVELIN-2019-SIPRI17"]);
    }

    #[test]
    fn ordered_from_keeps_only_the_later_deals() {
        let sales = sales(Some(2020));
        let ids: Vec<&str> = sales.timelines.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["ITA-HIMARS-2024-SIPRI14"]);
        assert!(
            sales
                .left_out
                .iter()
                .all(|left| !left.deal.contains("2019"))
        );
    }
}
