//! A site's robots.txt, read for our agent (`texting_robots`, which follows Google's reading of
//! the rules): which paths the crawl may read, the pause it asks for, the sitemaps it names.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use texting_robots::Robot;

use super::http::{Session, body};

/// Google reads the first 500 KiB of a robots.txt; a larger one is taken as no rules.
const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// A site's robots.txt, read for our agent.
pub(super) struct Robots {
    robot: Option<Robot>,
    /// The `Sitemap:` lines, as URLs.
    pub sitemaps: Vec<Url>,
}

impl Robots {
    /// Reads `/robots.txt` of `site`'s origin and sets the session's pace. No answer, or an
    /// answer in the 500s, fails the source (the site may be down; crawling it then is rude);
    /// any other answer but a 200 means no rules.
    pub async fn fetch(session: &mut Session<'_>, site: &Url) -> Result<Robots, String> {
        let none = Robots {
            robot: None,
            sitemaps: vec![],
        };
        let url = site.join("/robots.txt").map_err(|e| e.to_string())?;
        let host = site.host_str().unwrap_or("");
        let mut response = session
            .get(&url, None)
            .await
            .map_err(|e| format!("{host} could not be reached: {e}"))?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(format!(
                "{url} answered HTTP {}; the site is read once it answers",
                status.as_u16()
            ));
        }
        if !status.is_success() {
            return Ok(none);
        }
        let Ok(bytes) = body(&mut response, MAX_ROBOTS_BYTES).await else {
            return Ok(none);
        };
        let agent = session.policy.robots_agent().to_owned();
        let Ok(robot) = Robot::new(&agent, &bytes) else {
            return Ok(none);
        };
        if let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
            session.slow_down(Duration::from_secs_f32(delay.min(60.0)));
        }
        let sitemaps = robot
            .sitemaps
            .iter()
            .filter_map(|s| url.join(s.trim()).ok())
            .collect();
        if !robot.allowed(site.as_str()) {
            return Err(format!(
                "robots.txt of {host} forbids {agent} to read {site}"
            ));
        }
        Ok(Robots {
            robot: Some(robot),
            sitemaps,
        })
    }

    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_for_our_agent() {
        let robot = Robot::new(
            "dgbot",
            b"User-agent: *\nDisallow: /\n\nUser-agent: dgbot\nDisallow: /private/\nCrawl-delay: 2\n",
        )
        .unwrap();
        let robots = Robots {
            robot: Some(robot),
            sitemaps: vec![],
        };
        assert!(robots.allowed(&Url::parse("https://x.dk/faq").unwrap()));
        assert!(!robots.allowed(&Url::parse("https://x.dk/private/a").unwrap()));
        assert_eq!(robots.robot.unwrap().delay, Some(2.0));
    }
}
