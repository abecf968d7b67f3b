#!/usr/bin/env bash
# Copies this machine's Open MPI runtime into one folder that works from any
# path on a machine that has no Open MPI: mpirun and orted, the plugins a
# one-host run uses, their help texts, PMIx with its plugins, and every shared
# library that these and the given programs load, except glibc's own, the C++
# runtime and the GPU's (libcuda, libnccl: those must be the device's,
# matching its driver).
# Writes DEST/env.sh, which puts the folder first on PATH and LD_LIBRARY_PATH
# and tells Open MPI and PMIx where their files now are.
#
# usage: launch/device/pack-openmpi.sh DEST [PROGRAM...]
#   DEST must not exist. PROGRAMs are only read (their libraries are packed);
#   copy them yourself. Needs ldd and Debian's Open MPI 4 (libopenmpi-dev,
#   openmpi-bin). launch/device/pack-for-device.sh calls it.
set -euo pipefail
me="pack-openmpi.sh"
dest=${1:-}
[[ -n $dest ]] || { echo "$me: usage: $me DEST [PROGRAM...]" >&2; exit 2; }
shift
[[ ! -e $dest ]] || { echo "$me: $dest: already exists (give a new folder)" >&2; exit 2; }
for p in "$@"; do [[ -f $p ]] || { echo "$me: $p: no such program" >&2; exit 2; }; done
orterun=$(command -v orterun) || { echo "$me: orterun not found: install openmpi-bin" >&2; exit 2; }
orted=$(command -v orted) || { echo "$me: orted not found: install openmpi-bin" >&2; exit 2; }
# Where this Open MPI keeps its plugins and help texts, as it says itself.
path_of() { ompi_info --path "$1" 2>/dev/null | sed 's/^.*: //'; }
plugins=$(path_of pkglibdir)
help=$(path_of pkgdatadir)
[[ -d $plugins && -d $help ]] || { echo "$me: ompi_info does not name its plugin and help folders" >&2; exit 2; }
# PMIx (external to Debian's Open MPI 4.1): its plugins sit under its own prefix.
pmix_lib=$(ldd "$plugins"/mca_pmix_ext3x.so 2>/dev/null | awk '/libpmix\.so/ { print $3 }')
pmix_prefix=${pmix_lib:+$(dirname "$(dirname "$(readlink -f "$pmix_lib")")")}

mkdir -p "$dest"/{bin,lib/openmpi,share,etc}
dest=$(cd "$dest" && pwd)
# Copies, not links: the folder is carried to another machine.
cp -L "$orterun" "$dest/bin/orterun"
cp -L "$orterun" "$dest/bin/mpirun"
cp -L "$orted" "$dest/bin/orted"
cp -r "$help" "$dest/share/openmpi"

# Plugins a one-host run leaves unused, and that would bring their own
# libraries: remote launchers (rsh needs ssh, which the device lacks: without
# it, Open MPI's isolated launcher runs the ranks), batch systems, network
# fabrics (UCX, libfabric, PSM, verbs), OpenSHMEM.
unused='^mca_(plm_(rsh|slurm)|ras_(slurm|gridengine)|ess_slurm|schizo_(slurm|flux|jsm)|pmix_flux|[a-z]+_ucx|btl_(ofi|openib|uct)|mtl_(ofi|psm|psm2)|atomic_|memheap_|scoll_|spml_|sshmem_)'
for so in "$plugins"/*.so; do
  [[ $(basename "$so") =~ $unused ]] || cp "$so" "$dest/lib/openmpi/"
done
if [[ -n $pmix_prefix && -d $pmix_prefix/lib/pmix ]]; then
  mkdir -p "$dest/pmix/lib" "$dest/pmix/share"
  cp -r "$pmix_prefix/lib/pmix" "$dest/pmix/lib/"
  [[ -d $pmix_prefix/share/pmix ]] && cp -r "$pmix_prefix/share/pmix" "$dest/pmix/share/"
fi

# Every library the dynamic loader maps for these files (ldd lists the whole
# closure), under its soname. glibc's libraries and the loader stay the
# device's (they must match its kernel and each other); so do the GPU's; and
# so do libstdc++ and libgcc_s: a glibc new enough for the pack comes with
# them at least as new as this machine's, and the device's own libraries
# (NCCL) may need theirs.
from_device='^(linux-vdso|ld-linux|libc\.so|libm\.so|libmvec\.so|libdl\.so|libpthread\.so|librt\.so|libutil\.so'
from_device+='|libresolv\.so|libanl\.so|libstdc\+\+\.so|libgcc_s\.so|libcuda\.so|libnvidia-|libnccl\.so)'
elves=("$dest/bin/orterun" "$dest/bin/orted" "$dest"/lib/openmpi/*.so "$@")
[[ -d $dest/pmix/lib/pmix ]] && elves+=("$dest"/pmix/lib/pmix/*.so)
missing=()
for elf in "${elves[@]}"; do
  while read -r name arrow path _; do
    [[ $arrow == "=>" ]] || continue
    [[ $name =~ $from_device ]] && continue
    if [[ $path == not ]]; then
      missing+=("$(basename "$elf"): $name")
    elif [[ ! -e $dest/lib/$name ]]; then
      cp -L "$path" "$dest/lib/$name"
    fi
  done < <(ldd "$elf" 2>/dev/null)
done
if ((${#missing[@]})); then
  echo "$me: libraries not found here: ${missing[*]}" >&2
  exit 2
fi

# Relocatable: every path from this file's own folder. MCA settings for one
# host without a fabric: shared memory between ranks (ob1 over self and
# vader, so no UCX or libfabric is probed) and plain copies instead of CMA
# (process_vm_readv fails where ptrace is restricted); the isolated launcher,
# since the remote ones are not packed.
cat > "$dest/env.sh" <<'ENV'
# Source (bash) to use this packed Open MPI from wherever the folder is.
ppb_ompi=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export OPAL_PREFIX=$ppb_ompi OPAL_BINDIR=$ppb_ompi/bin OPAL_LIBDIR=$ppb_ompi/lib \
  OPAL_PKGLIBDIR=$ppb_ompi/lib/openmpi OPAL_PKGDATADIR=$ppb_ompi/share/openmpi OPAL_SYSCONFDIR=$ppb_ompi/etc
[[ -d $ppb_ompi/pmix ]] && export PMIX_INSTALL_PREFIX=$ppb_ompi/pmix
export PATH=$ppb_ompi/bin${PATH:+:$PATH}
export LD_LIBRARY_PATH=$ppb_ompi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMPI_MCA_plm=isolated OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_osc=^ucx,pt2pt \
  OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl_base_warn_component_unused=0 \
  PMIX_MCA_pcompress_base_silence_warning=1
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
ENV
libs=("$dest"/lib/*.so*) mca=("$dest"/lib/openmpi/*.so)
echo "$me: $(du -sh "$dest" | cut -f1) in $dest (${#libs[@]} libraries, ${#mca[@]} plugins)"
