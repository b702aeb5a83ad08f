//! The questions a campaign's start, pause, cancel or re-queue asks before it happens.

use super::{App, Confirm, OnYes, Overlay, group};
use crate::domain::{CampaignId, CampaignStatus};
use crate::engine::campaigns::Step;
use crate::tui::action::{Action, PaneId};
use crate::tui::worker::{Request, Tagged};

impl App {
    /// Asks before a campaign step, or says why it does not apply to the selected one. A
    /// start is asked once the worker has counted whom the draft reaches.
    pub(super) fn campaign_question(&mut self, action: Action) -> Vec<Tagged<Request>> {
        use CampaignStatus as S;
        let Some(c) = self.campaigns.selected() else {
            self.notify("no campaign selected", false);
            return Vec::new();
        };
        let (id, name, status) = (c.id, c.name.clone(), c.status);
        let unknown = c.counts.unknown;
        let ask = |title: &str, message: String, on_yes: OnYes| {
            Overlay::Confirm(Confirm {
                title: title.into(),
                message,
                on_yes,
            })
        };
        self.overlay = match (action, status) {
            (Action::StartCampaign, S::Draft) => {
                self.notify(format!("counting whom “{name}” reaches now…"), false);
                return vec![Tagged::any(Request::Reach { id })];
            }
            (Action::PauseResume, S::Running | S::Scheduled) => ask(
                "Pause campaign?",
                format!(
                    "Pause “{name}”? Messages in flight finish; nothing else is sent until you resume."
                ),
                OnYes::StepCampaign(id, Step::Pause),
            ),
            (Action::PauseResume, S::Paused) => ask(
                "Resume campaign?",
                format!(
                    "Resume “{name}”? It continues from where it stopped; nobody gets it twice."
                ),
                OnYes::StepCampaign(id, Step::Resume),
            ),
            (Action::CancelCampaign, S::Draft | S::Scheduled | S::Running | S::Paused) => ask(
                "Cancel campaign?",
                format!(
                    "Cancel “{name}”? Every message not yet sent is skipped. This cannot be undone."
                ),
                OnYes::StepCampaign(id, Step::Cancel),
            ),
            (Action::RequeueUnknown, _) if unknown > 0 => ask(
                "Send unknown again?",
                format!(
                    "{unknown} {} of “{name}” got no answer and may have arrived. Send them \
                     again? Some people may get the message twice.",
                    crate::domain::noun(unknown, "message", "messages")
                ),
                OnYes::RequeueUnknown(id),
            ),
            (Action::RequeueUnknown, _) => {
                self.notify(format!("“{name}” has no messages of unknown fate"), false);
                return Vec::new();
            }
            (_, status) => {
                self.notify(format!("“{name}” is {status}: that does not apply"), false);
                return Vec::new();
            }
        };
        Vec::new()
    }

    /// The question before a start, with whom the draft reaches now.
    pub(super) fn start_question(
        &mut self,
        id: CampaignId,
        reach: crate::engine::campaigns::Reach,
    ) {
        let name = self
            .campaigns
            .rows
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("campaign {id}"), |c| c.name.clone());
        if !reach.policy.is_empty() {
            self.notify(
                format!(
                    "“{name}” cannot start: its message breaks the content policy: {}",
                    reach.policy.join("; ")
                ),
                true,
            );
            return;
        }
        // The operator moved on while it was counted: no question out of the blue.
        if self.pane != PaneId::Campaigns
            || self.overlay != Overlay::None
            || self.campaign_form.is_some()
            || self.prompt.is_some()
        {
            self.notify(
                format!(
                    "“{name}” reaches {} now; s in Campaigns starts it (asks first)",
                    group(reach.reaches)
                ),
                false,
            );
            return;
        }
        let left: Vec<String> = reach
            .left_out
            .iter()
            .map(|(reason, n)| format!("{} {reason}", group(*n)))
            .collect();
        let left = if left.is_empty() {
            "nobody in the list is left out".to_string()
        } else {
            format!("left out: {}", left.join(", "))
        };
        let (title, message) = if reach.reaches == 0 {
            (
                "Start campaign? It reaches nobody",
                format!(
                    "“{name}” reaches nobody now ({left}). Started, it completes at once with \
                     nothing sent. Start it anyway?"
                ),
            )
        } else {
            (
                "Start campaign?",
                format!(
                    "Start “{name}”? It reaches {} {} now; {left}. They are queued at \
                     once and sent at the account's pace.",
                    group(reach.reaches),
                    crate::domain::noun(reach.reaches, "subscriber", "subscribers")
                ),
            )
        };
        self.overlay = Overlay::Confirm(Confirm {
            title: title.into(),
            message,
            on_yes: OnYes::StartCampaign(id),
        });
    }
}
