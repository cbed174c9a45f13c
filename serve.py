"""The server: `streamlit run serve.py` (what `make run` does) serves app.py, the app.

app.py holds the app (menu, pages, sidebar). This file only puts two things of
ui/server.py around Streamlit's own server (st.App): Streamlit's static files answered from
memory, and the app's modules imported before the first browser connects.
"""

import streamlit as st
from starlette.middleware import Middleware

from ui.server import StaticFilesFromMemory, load_app_modules

app = st.App("app.py", lifespan=load_app_modules,
             middleware=[Middleware(StaticFilesFromMemory)])
