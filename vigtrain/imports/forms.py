"""The import's two forms: choose a file, and confirm the import the preview showed."""

from __future__ import annotations

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from wtforms import SubmitField

from vigtrain.forms import Form


class UploadForm(Form):
    file = FileField("Upload a file of people", widget=GovFileInput())
    upload = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmForm(Form):
    confirm = SubmitField("Import these people", widget=GovSubmitInput())
