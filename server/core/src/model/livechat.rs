//! Livechat settings: whether they are valid ([`check`]), and when livechat is live
//! ([`availability`], seed 002, "Setup before handover"): while enabled, empty working hours
//! mean always on; otherwise live inside the weekly hours in the configured time zone; a manual
//! override (`live` / `offline`) wins over the schedule.

use std::time::SystemTime;

use dgbot_protocol::api::FieldError;
use dgbot_protocol::livechat::LivechatSettings;
use jiff::civil::Weekday;

pub const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// `HH:MM` as minutes after midnight (`24:00` is 1440).
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn day_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

/// `(live, availability_reason)`: `disabled`, `manual_override`, `always_on`, `working_hours`
/// or `outside_working_hours`.
pub fn availability(s: &LivechatSettings, now: SystemTime) -> (bool, &'static str) {
    if !s.enabled {
        return (false, "disabled");
    }
    match s.manual_override.as_deref() {
        Some("live") => return (true, "manual_override"),
        Some("offline") => return (false, "manual_override"),
        _ => {}
    }
    if s.working_hours.is_empty() {
        return (true, "always_on");
    }
    let (Ok(tz), Ok(ts)) = (
        jiff::tz::TimeZone::get(&s.timezone),
        jiff::Timestamp::try_from(now),
    ) else {
        return (false, "outside_working_hours"); // checked when set; never live on a bad zone
    };
    let local = ts.to_zoned(tz);
    let (day, minute) = (
        DAYS[day_index(local.weekday())],
        local.hour() as u32 * 60 + local.minute() as u32,
    );
    let open = s.working_hours.iter().any(|w| {
        w.day == day
            && matches!((minutes(&w.start), minutes(&w.end)), (Some(a), Some(b)) if a <= minute && minute < b)
    });
    if open {
        (true, "working_hours")
    } else {
        (false, "outside_working_hours")
    }
}

/// Settings from the API or the configuration file, checked; errors name the field
/// (`working_hours.0.start`).
pub fn check(s: &LivechatSettings) -> Result<(), Vec<FieldError>> {
    let mut errors = vec![];
    let mut bad = |field: String, message: &str| {
        errors.push(FieldError {
            field,
            message: message.to_owned(),
        })
    };
    if jiff::tz::TimeZone::get(&s.timezone).is_err() {
        bad(
            "timezone".into(),
            "Use an IANA time zone name such as \"Europe/Copenhagen\"",
        );
    }
    if let Some(o) = &s.manual_override
        && !matches!(o.as_str(), "live" | "offline")
    {
        bad(
            "manual_override".into(),
            "Use \"live\", \"offline\" or leave it out",
        );
    }
    for (i, w) in s.working_hours.iter().enumerate() {
        if !DAYS.contains(&w.day.as_str()) {
            bad(
                format!("working_hours.{i}.day"),
                "Use a day name: monday … sunday",
            );
        }
        match (minutes(&w.start), minutes(&w.end)) {
            (None, _) => bad(format!("working_hours.{i}.start"), "Use HH:MM (24 hours)"),
            (_, None) => bad(format!("working_hours.{i}.end"), "Use HH:MM (24 hours)"),
            (Some(a), Some(b)) if a >= b => {
                bad(format!("working_hours.{i}.end"), "Must be after start")
            }
            _ => {}
        }
    }
    if s.max_attachment_size_bytes == 0 || s.max_attachment_size_bytes > 25 * 1024 * 1024 {
        bad(
            "max_attachment_size_bytes".into(),
            "Must be from 1 byte to 25 MB (26214400)",
        );
    }
    if !(1..=3650).contains(&s.attachment_retention_days) {
        bad(
            "attachment_retention_days".into(),
            "Must be from 1 to 3650 days",
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::livechat::WorkingHours;

    fn at(rfc3339: &str) -> SystemTime {
        SystemTime::from(rfc3339.parse::<jiff::Timestamp>().unwrap())
    }

    fn copenhagen_weekdays() -> LivechatSettings {
        LivechatSettings {
            enabled: true,
            timezone: "Europe/Copenhagen".into(),
            working_hours: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                .iter()
                .map(|d| WorkingHours {
                    day: (*d).into(),
                    start: "09:00".into(),
                    end: "17:00".into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn working_hours_in_the_configured_zone() {
        let s = copenhagen_weekdays();
        // Monday 2026-11-23: Copenhagen is UTC+1 in winter.
        assert_eq!(
            availability(&s, at("2026-11-23T07:59:00Z")),
            (false, "outside_working_hours")
        );
        assert_eq!(
            availability(&s, at("2026-11-23T08:00:00Z")),
            (true, "working_hours")
        );
        assert_eq!(
            availability(&s, at("2026-11-23T15:59:59Z")),
            (true, "working_hours")
        );
        assert_eq!(
            availability(&s, at("2026-11-23T16:00:00Z")),
            (false, "outside_working_hours")
        );
        // Summer time (UTC+2): 07:30 UTC is 09:30 local.
        assert_eq!(
            availability(&s, at("2026-06-15T07:30:00Z")),
            (true, "working_hours")
        );
        // Saturday.
        assert_eq!(
            availability(&s, at("2026-11-28T10:00:00Z")),
            (false, "outside_working_hours")
        );
    }

    #[test]
    fn override_empty_hours_and_disabled() {
        let mut s = copenhagen_weekdays();
        let saturday = at("2026-11-28T10:00:00Z");
        s.manual_override = Some("live".into());
        assert_eq!(availability(&s, saturday), (true, "manual_override"));
        s.manual_override = Some("offline".into());
        assert_eq!(
            availability(&s, at("2026-11-23T10:00:00Z")),
            (false, "manual_override")
        );
        s.manual_override = None;
        s.working_hours.clear();
        assert_eq!(availability(&s, saturday), (true, "always_on"));
        s.enabled = false;
        assert_eq!(availability(&s, saturday), (false, "disabled"));
    }

    #[test]
    fn bad_settings_name_the_field() {
        let mut s = copenhagen_weekdays();
        s.timezone = "Mars/Olympus".into();
        s.working_hours[1].start = "9am".into();
        s.working_hours[2].end = "08:00".into();
        s.manual_override = Some("sometimes".into());
        let errors = check(&s).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "timezone",
                "manual_override",
                "working_hours.1.start",
                "working_hours.2.end"
            ]
        );
        assert!(check(&copenhagen_weekdays()).is_ok());
    }
}
