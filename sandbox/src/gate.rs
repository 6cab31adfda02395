//! What every API call goes through before its handler: stats, latency, the bearer
//! token, `Intercom-Version`, the rate limit and injected faults.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::rate_limit;
use super::version::ApiVersion;
use super::Sandbox;

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub async fn gate(State(sandbox): State<Sandbox>, mut request: Request, next: Next) -> Response {
    let path = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let route = format!("{} {}", request.method(), path.unwrap_or_else(|| request.uri().path().to_string()));
    let latency = {
        let mut state = sandbox.lock();
        state.stats.total_calls += 1;
        *state.stats.calls.entry(route).or_default() += 1;
        state.config.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let budget = {
        let mut state = sandbox.lock();
        let token = bearer(request.headers()).filter(|t| state.tokens.contains(t));
        // Invalid credentials get no rate-limit headers (docs/intercom.md §5).
        let Some(token) = token else { return ApiError::unauthorized().into_response() };
        if state.storm_429 > 0 {
            state.storm_429 -= 1;
            state.stats.rate_limited += 1;
            let storm = rate_limit::storm(&state);
            return with_budget(storm.error().into_response(), &storm);
        }
        let budget = rate_limit::spend(&mut state, &token);
        if budget.exceeded {
            state.stats.rate_limited += 1;
            return with_budget(budget.error().into_response(), &budget);
        }
        let rate = state.config.fault_rate;
        if rate > 0.0 && state.fault_rng.chance(rate) {
            state.stats.faults_injected += 1;
            let error = ApiError::server_error("An unexpected error occurred");
            return with_budget(error.into_response(), &budget);
        }
        let header = request.headers().get("intercom-version").map(|v| v.to_str().unwrap_or("").to_string());
        let version = match header {
            Some(raw) => ApiVersion::parse(&raw),
            None => Some(ApiVersion::parse(&state.config.default_version).unwrap_or(ApiVersion::V2_16)),
        };
        // The live API's answer to a bad version is UNCONFIRMED; a 400 is the safe fake.
        let Some(version) = version else {
            let error = ApiError::new(
                StatusCode::BAD_REQUEST,
                "intercom_version_invalid",
                "The requested version could not be found",
            );
            return with_budget(error.into_response(), &budget);
        };
        request.extensions_mut().insert(version);
        budget
    };
    let response = next.run(request).await;
    with_budget(response, &budget)
}

fn with_budget(mut response: Response, budget: &rate_limit::Budget) -> Response {
    budget.write(response.headers_mut());
    response
}
