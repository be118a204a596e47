"""Microsoft Teams through a Workflows webhook: one Adaptive Card (title, facts, text, a link)."""

from __future__ import annotations

from typing import Any

from onduty.adapters.notify.http import ChatChannel
from onduty.adapters.notify.render import Summary


def adaptive_card(summary: Summary) -> dict[str, Any]:
    facts = [{"title": n, "value": v} for n, v in (("Severity", summary.severity), ("Status", summary.status),
                                                  ("Client", summary.client), ("Service", summary.service)) if v]
    body: list[dict[str, Any]] = [{
        "type": "TextBlock", "text": summary.title, "size": "Large", "weight": "Bolder", "wrap": True,
        "color": "Attention" if summary.severity == "Sev1" else "Default",
    }]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if summary.text:
        body.append({"type": "TextBlock", "text": summary.text, "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
        "version": "1.4", "body": body,
    }
    if summary.link.startswith(("http://", "https://")):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open incident", "url": summary.link}]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card,
    }]}


class TeamsChannel(ChatChannel):
    def payload(self, summary: Summary) -> dict[str, Any]:
        return adaptive_card(summary)
