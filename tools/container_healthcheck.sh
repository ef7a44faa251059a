#!/bin/bash
# The image's HEALTHCHECK: GET /v2/health/live (KServe liveness) on the REST port the server was
# started with (--rest_port in PID 1's command line, or OVMS_HEALTH_PORT). Bash only: the slim
# runtime image has no curl. A server started without a REST port counts as healthy while it runs.
port="${OVMS_HEALTH_PORT:-}"
if [ -z "$port" ]; then
  mapfile -d '' args < /proc/1/cmdline
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      --rest_port) port="${args[$((i + 1))]:-}" ;;
      --rest_port=*) port="${args[$i]#--rest_port=}" ;;
    esac
  done
fi
if [ -z "$port" ] || [ "$port" = 0 ]; then
  exit 0
fi
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 5 status_line <&3 || exit 1
case "$status_line" in
  "HTTP/1."?" 200"*) exit 0 ;;
  *) exit 1 ;;
esac
