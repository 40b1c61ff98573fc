"""The legacy completions slice (``POST /completions``): OpenAI's text-completion shapes
(``protocol``) served over chat serving (``serving``), and the route (``router``)."""
