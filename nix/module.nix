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
    recorder = {
      enable = lib.mkEnableOption "the bpftop flight recorder (`bpftop record`, as root)";
      dir = lib.mkOption {
        type = lib.types.str;
        default = "/var/lib/bpftop";
        description = "Directory of the recording (`bpftop replay --dir`).";
      };
      retain = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ "7d" "2GiB" ];
        description = "What to keep: an age and/or a size (`--retain`).";
      };
      delayMs = lib.mkOption {
        type = lib.types.ints.between 10 3600000;
        default = 1000;
        description = "Milliseconds between recorded refreshes.";
      };
    };
  };

  config = lib.mkMerge [
  (lib.mkIf cfg.recorder.enable {
    systemd.services.bpftop-recorder = {
      description = "bpftop flight recorder";
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        ExecStart = lib.escapeShellArgs ([
          "${cfg.package}/bin/bpftop" "--no-gpu" "record"
          "--dir" cfg.recorder.dir "-d" (toString cfg.recorder.delayMs)
        ] ++ lib.concatMap (r: [ "--retain" r ]) cfg.recorder.retain);
        Restart = "on-failure";
      };
    };
  })
  (lib.mkIf cfg.enable {
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
  })
  ];
}
