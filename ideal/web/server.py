"""The application object uvicorn imports (`ideal serve`, or `uvicorn ideal.web.server:app`)."""

from ideal.web.app import create_app

app = create_app(warm=True)
