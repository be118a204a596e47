"""Slack incoming webhooks: a Block Kit message (header, facts, text, a button to the incident)."""

from __future__ import annotations

import re
from typing import Any

from onduty.adapters.notify.http import ChatChannel
from onduty.adapters.notify.render import Summary

SECTION_CHARS = 2900  # Slack refuses section texts over 3000 characters


def mrkdwn(text: str) -> str:
    """The Markdown our templates use, in Slack's dialect: **bold** → *bold*, and <>& escaped."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", escaped)


def blocks(summary: Summary) -> dict[str, Any]:
    facts = [(n, v) for n, v in (("Severity", summary.severity), ("Status", summary.status),
                                 ("Client", summary.client), ("Service", summary.service)) if v]
    items: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary.title[:150], "emoji": True}},
    ]
    if facts:
        items.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{name}*\n{mrkdwn(value)}"} for name, value in facts]})
    text = mrkdwn(summary.text)
    while text:  # long messages take several sections
        items.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_CHARS]}})
        text = text[SECTION_CHARS:]
        if len(items) >= 45:  # Slack's cap is 50 blocks
            break
    if summary.link.startswith(("http://", "https://")):
        items.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open incident"}, "url": summary.link,
            "style": "danger" if summary.severity == "Sev1" else "primary",
        }]})
    return {"text": summary.title, "blocks": items}


class SlackChannel(ChatChannel):
    def payload(self, summary: Summary) -> dict[str, Any]:
        return blocks(summary)
