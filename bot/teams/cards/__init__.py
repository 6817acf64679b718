"""Pure Adaptive Card 1.5 builders: data in, card JSON out. No I/O, no botbuilder.

Text a person typed or an outside system named (a justification, a reason, a resource name, a
display name, an error that quotes one) is only ever put into a ``TextRun`` of a
``RichTextBlock``: Adaptive Card hosts never parse a TextRun as markdown, so it cannot turn into a
link, a mention or formatting. ``TextBlock`` (which is parsed) holds only Gatepass's own words.
"""
