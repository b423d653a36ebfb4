{
  # Not yet built or tested.
  description = "bpftop: an htop-class process monitor fed by eBPF";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAll (pkgs: rec {
        bpftop = pkgs.rustPlatform.buildRustPackage {
          pname = "bpftop";
          version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).package.version;
          src = ./.;
          cargoLock.lockFile = ./Cargo.lock;
          # build.rs compiles the BPF programs with clang; libbpf-sys builds
          # libbpf against libelf and zlib.
          nativeBuildInputs = [ pkgs.clang pkgs.pkg-config pkgs.installShellFiles ];
          buildInputs = [ pkgs.elfutils pkgs.zlib ];
          # The BPF target must not get the hardening flags of the host cc.
          hardeningDisable = [ "zerocallusedregs" "stackprotector" ];
          # Most tests need root and a kernel with BPF.
          doCheck = false;
          postInstall = ''
            installManPage docs/man/bpftop.1
            installShellCompletion --bash completions/bpftop.bash \
              --zsh completions/_bpftop --fish completions/bpftop.fish
          '';
          meta = {
            description = "htop-class process monitor whose per-process data comes from eBPF";
            platforms = pkgs.lib.platforms.linux;
            mainProgram = "bpftop";
          };
        };
        default = bpftop;
      });

      nixosModules.default = import ./nix/module.nix self;
    };
}
