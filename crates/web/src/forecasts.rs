//! The last good forecast of every stored case, kept in memory and recomputed in the
//! background, never inside a request.

use std::collections::HashMap;
use std::sync::RwLock;

use expedite_core::{CaseId, Date};
use expedite_forecast::report::CaseForecast;
use serde::Serialize;

/// One case's forecast, with when and from what it was computed.
#[derive(Debug, Clone, Serialize)]
pub struct StoredForecast {
    /// P10/P50/P90 of contract, first and final delivery.
    pub forecast: CaseForecast,
    /// The scenario start ("today") the forecast was made for.
    pub as_of: Date,
    /// When it was computed.
    pub computed_at: jiff::Timestamp,
    /// The assumptions behind it, as the scenario states them.
    pub assumptions: Vec<String>,
}

/// Every case's last good forecast, by case id.
#[derive(Debug, Default)]
pub struct CaseForecasts {
    by_case: RwLock<HashMap<String, StoredForecast>>,
    /// Wakes the background worker after a write.
    wake: tokio::sync::Notify,
}

impl CaseForecasts {
    /// The last good forecast of a case, if one was computed.
    pub fn get(&self, id: &CaseId) -> Option<StoredForecast> {
        self.read().get(id.as_str()).cloned()
    }

    /// Replaces the forecasts of the cases given; others keep theirs.
    pub fn store(&self, forecasts: impl IntoIterator<Item = StoredForecast>) {
        let mut map = self
            .by_case
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for forecast in forecasts {
            map.insert(forecast.forecast.id.clone(), forecast);
        }
    }

    /// Tells the background worker, where one runs, that a case changed.
    pub fn touched(&self, _case: &expedite_core::machine::Case) {
        self.wake.notify_one();
    }

    /// Waits until a write is reported (see [`CaseForecasts::touched`]).
    pub async fn changed(&self) {
        self.wake.notified().await;
    }

    /// How many cases have a forecast.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no case has a forecast yet.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, StoredForecast>> {
        // Writers replace whole entries, so a poisoned lock still holds whole forecasts.
        self.by_case
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
