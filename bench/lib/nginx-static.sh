# nginx as the static-file peer of the benches. Sourced, not run.
#   nginx_static_conf DIR LISTEN ROOT   writes DIR/nginx.conf: one worker, no master, no access log, sendfile,
#                                       serving ROOT on LISTEN (ADDRESS:PORT); its pid, logs and temp dirs in DIR
nginx_static_conf() {
  local dir=$1 listen=$2 root=$3
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server { listen $listen; root $root; }
}
CONF
}
