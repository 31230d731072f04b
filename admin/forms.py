from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=200)])


class TotpForm(FlaskForm):
    code = StringField(
        "动态验证码", validators=[DataRequired("请输入 6 位动态验证码。"), Length(max=10)]
    )
