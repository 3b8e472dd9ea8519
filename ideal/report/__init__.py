"""Briefings: context from an assessment run, SVG charts, Jinja2 HTML, WeasyPrint PDF."""
