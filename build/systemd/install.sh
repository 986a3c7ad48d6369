#!/usr/bin/env bash
# Installs cortex-edge on a board (run as root on the board, from an unpacked release):
#   build/systemd/install.sh path/to/cortex-edge [path/to/agent.json]
# Creates the cortex-edge user, /etc/cortex-edge (config), /var/lib/cortex-edge (data, via
# StateDirectory), installs the unit, validates the config and starts the service.
set -euo pipefail
bin="${1:?usage: install.sh path/to/cortex-edge [agent.json]}"
config="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

install -m 0755 "$bin" /usr/local/bin/cortex-edge
id cortex-edge >/dev/null 2>&1 || useradd --system --home /var/lib/cortex-edge --shell /usr/sbin/nologin cortex-edge
# GPIO access for a UPS "mains lost" line, where the board has the group.
getent group gpio >/dev/null && usermod -a -G gpio cortex-edge || true
install -d -m 0750 -o root -g cortex-edge /etc/cortex-edge
if [ -n "$config" ]; then
  install -m 0640 -o root -g cortex-edge "$config" /etc/cortex-edge/agent.json
elif [ ! -f /etc/cortex-edge/agent.json ]; then
  /usr/local/bin/cortex-edge config example > /etc/cortex-edge/agent.json
  chgrp cortex-edge /etc/cortex-edge/agent.json; chmod 0640 /etc/cortex-edge/agent.json
  echo "install.sh: wrote an example /etc/cortex-edge/agent.json: edit it, then: systemctl restart cortex-edge"
fi
/usr/local/bin/cortex-edge config check /etc/cortex-edge/agent.json
install -m 0644 "$here/cortex-edge.service" /etc/systemd/system/cortex-edge.service
systemctl daemon-reload
systemctl enable --now cortex-edge
systemctl --no-pager status cortex-edge | head -n 5
