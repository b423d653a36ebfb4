# NixOS module (untested): programs.bpftop.enable installs a capability
# wrapper that only members of programs.bpftop.group may execute. bpftop
# refuses setuid, so the wrapper grants file capabilities only; bpftop drops
# what it no longer needs once its programs are loaded (see README,
# "Running without sudo").
self:
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.bpftop;
in
{
  options.programs.bpftop = {
    enable = lib.mkEnableOption "bpftop, with the capabilities to load its eBPF programs";
    group = lib.mkOption {
      type = lib.types.str;
      default = "bpftop";
      description = "Group whose members may run bpftop (and read every process's counters).";
    };
    package = lib.mkOption {
      type = lib.types.package;
      default = self.packages.${pkgs.stdenv.hostPlatform.system}.bpftop;
      description = "The bpftop package.";
    };
  };

  config = lib.mkIf cfg.enable {
    users.groups.${cfg.group} = { };
    security.wrappers.bpftop = {
      source = "${cfg.package}/bin/bpftop";
      owner = "root";
      group = cfg.group;
      permissions = "u+rx,g+x";
      # cap_bpf,cap_perfmon: load and attach; cap_dac_read_search: container
      # names; cap_sys_ptrace: GPU fdinfo of other users' processes.
      capabilities = "cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_ptrace+ep";
    };
    # Man page and completions (the wrapper shadows the binary in PATH).
    environment.systemPackages = [ cfg.package ];
  };
}
