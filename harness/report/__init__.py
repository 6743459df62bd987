"""Renderings of a retention analysis: tables (text, md, html, latex, json, csv), the HTML report, the model card."""
