# The NativeAOT node agent for benches that run it outside a VM. Sourced, not run.
#   bench_agent REPO DIR   publishes it into DIR when missing or older than its sources; sets $agent to its path
bench_agent() {
  local repo=$1 dir=$2
  if [[ ! -x $dir/sidus-agent || -n $(find "$repo/src/Sidus.Agent" "$repo/src/Sidus.Store" "$repo/src/Sidus.Wire" -name '*.cs' -newer "$dir/sidus-agent" | head -1) ]]; then
    echo "publishing the NativeAOT agent..."
    dotnet publish "$repo/src/Sidus.Agent/Sidus.Agent.csproj" -c Aot -p:Optimize=true -r linux-x64 -p:PublishAot=true \
      -p:SelfContained=true -o "$dir" --nologo -v q >/dev/null
  fi
  agent=$dir/sidus-agent
}
