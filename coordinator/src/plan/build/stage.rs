//! A plan stage (`StageDef`) → the load of one stage (`StageSpec`), ramps included.

use super::*;

/// A stage definition as a stage spec, or (field, message).
pub fn stage_spec(s: &StageDef) -> Result<StageSpec, (&'static str, String)> {
    if s.number.is_none() && s.duration_s.is_none() {
        return Err((
            "number",
            "a stage needs number or duration_s, or it would never end".into(),
        ));
    }
    if s.number == Some(0) {
        return Err(("number", "must be at least 1".into()));
    }
    if let Some(d) = s.duration_s
        && !(d.is_finite() && d > 0.0)
    {
        return Err((
            "duration_s",
            format!("must be a positive number of seconds, got {d}"),
        ));
    }
    if s.parallel == Some(0) {
        return Err(("parallel", "must be at least 1".into()));
    }
    if let Some(r) = &s.ramp {
        return ramped_stage_spec(s, r);
    }
    let load = match s.rate {
        None => {
            if s.arrival.is_some() || s.burstiness.is_some() {
                return Err(("arrival", "only applies with rate (open loop)".into()));
            }
            LoadModel::Closed {
                concurrency: s.parallel.unwrap_or(1),
            }
        }
        Some(rate) => {
            if !(rate.is_finite() && rate > 0.0) {
                return Err((
                    "rate",
                    format!("must be a positive number of requests per second, got {rate}"),
                ));
            }
            let arrival = match (s.arrival.as_deref().unwrap_or("poisson"), s.burstiness) {
                ("poisson", None) => Arrival::Poisson,
                ("constant", None) => Arrival::Constant,
                ("gamma", b) => {
                    let b = b.unwrap_or(1.0);
                    if !(b.is_finite() && b > 0.0) {
                        return Err(("burstiness", format!("must be a positive number, got {b}")));
                    }
                    Arrival::Gamma { burstiness: b }
                }
                (_, Some(_)) => {
                    return Err(("burstiness", "only applies with arrival: gamma".into()));
                }
                (other, None) => {
                    return Err((
                        "arrival",
                        format!("unknown arrival {other:?} (poisson, constant, gamma)"),
                    ));
                }
            };
            LoadModel::Open {
                rate,
                arrival,
                max_concurrency: s.parallel,
            }
        }
    };
    Ok(StageSpec::new(load, s.number, s.duration_s))
}

/// A stage with a ramp: a rate ramp (open loop, at the peak rate in its name and load model)
/// or a users ramp (closed loop, at the peak users). Errors name `ramp.<field>`.
fn ramped_stage_spec(s: &StageDef, r: &RampDef) -> Result<StageSpec, (&'static str, String)> {
    let strategy = match r.strategy.as_deref().unwrap_or("linear") {
        "linear" => RampStrategy::Linear,
        "exponential" => RampStrategy::Exponential,
        other => {
            return Err((
                "ramp.strategy",
                format!("unknown strategy {other:?} (linear, exponential)"),
            ));
        }
    };
    let users = match r.of.as_deref().unwrap_or("rate") {
        "rate" => false,
        "users" => true,
        other => return Err(("ramp.of", format!("unknown {other:?} (rate, users)"))),
    };
    if s.rate.is_some() {
        return Err((
            "rate",
            "the ramp sets the rate: leave out rate (the ramp's from and to are req/s)".into(),
        ));
    }
    let over_s = match (r.over_s, users) {
        (Some(o), _) => Some(o),
        // users ramp over the stage's duration
        (None, true) => Some(s.duration_s.ok_or((
            "ramp.over_s",
            "a users ramp needs over_s (or the stage's duration_s)".to_string(),
        ))?),
        (None, false) if s.number.is_none() => s.duration_s,
        (None, false) => None,
    };
    let ramp = Ramp {
        from: r.from,
        to: r.to,
        over_s,
        strategy,
    };
    ramp.check().map_err(|(f, m)| {
        let field = match f {
            "from" => "ramp.from",
            "to" => "ramp.to",
            "over_s" => "ramp.over_s",
            _ => "ramp.strategy",
        };
        (field, m)
    })?;
    let shape = match strategy {
        RampStrategy::Linear => "linear",
        RampStrategy::Exponential => "exp",
    };
    let over = over_s.map_or("number".to_string(), |o| format!("{o}s"));
    let (load, what) = if users {
        if s.parallel.is_some() || s.arrival.is_some() || s.burstiness.is_some() {
            return Err((
                "parallel",
                "a users ramp sets the users: leave out parallel, arrival and burstiness".into(),
            ));
        }
        let peak = u32::try_from(ramp.peak().round() as u64).unwrap_or(u32::MAX);
        (
            LoadModel::Closed {
                concurrency: peak.max(1),
            },
            "users",
        )
    } else {
        let open = stage_spec(&StageDef {
            rate: Some(ramp.peak()),
            ramp: None,
            ..s.clone()
        })?;
        (open.load, "rate")
    };
    let mut spec = StageSpec::new(load, s.number, s.duration_s);
    let bound = match (s.number, s.duration_s) {
        (Some(n), _) => format!("number_{n}"),
        (None, Some(d)) => format!("duration_{d}s"),
        (None, None) => "unbounded".into(),
    };
    let cap = match (users, s.parallel) {
        (false, Some(c)) => format!("_parallel_{c}"),
        _ => String::new(),
    };
    spec.name = format!(
        "ramp_{what}_{}_{}_{shape}_over_{over}{cap}_{bound}",
        r.from, r.to
    );
    spec.ramp = Some(ramp);
    Ok(spec)
}
