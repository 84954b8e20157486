"""Forms for logging in and changing a password, and the rule every new account's username follows."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

MIN_PASSWORD = 10
USERNAME = [
    DataRequired(_l("请填写用户名。")),
    Regexp(r"^\s*[A-Za-z0-9_.-]{3,40}\s*$", message=_l("用户名用 3–40 个字母、数字、点、下划线或连字符。")),
]


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=40)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请填写新密码。")),
        Length(min=MIN_PASSWORD, max=200, message=_l("新密码至少 10 个字符。"))],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再输一次新密码"), validators=[
        DataRequired(_l("请再输一次新密码。")), EqualTo("new", message=_l("两次输入的新密码不一样。"))],
        render_kw={"autocomplete": "new-password"})
