"""Gemini-native door (issue 21 item 1): Google's ``/v1beta`` generateContent surface, translated to
and from the chat pipeline (``service.chat``); errors in Google's envelope."""
