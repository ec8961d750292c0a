from releasegate.target.command import serve_command

serve_command(prog_name="python -m releasegate.target")
