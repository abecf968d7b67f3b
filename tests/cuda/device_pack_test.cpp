// launch/device/pack-for-device.sh, pack-openmpi.sh, device-env.sh,
// preflight.sh and device-run.sh on the device's side, against packs of small
// programs compiled here: a ppbench that links a stand-in libnccl.so.2 (as the
// device's NCCL, found only through LD_LIBRARY_PATH), one that does not (a
// build without CUDA), and ones whose libraries then go missing or lack a
// symbol version. Each test works in a copy of launch/ so that its .devpack
// is its own. Needs Open MPI (it is packed) and a C compiler.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "device_scripts.h"

namespace ppb::test {
namespace {

namespace fs = std::filesystem;

// Prints what the programs of a step saw, so that the log shows which environment they ran in.
const char* const kProgram = R"c(#include <stdio.h>
#include <stdlib.h>
int ncclGetVersion(int*);
EXTRA_DECLARATION
int main(int argc, char** argv) {
  int v = 0;
  ncclGetVersion(&v);
  EXTRA_CALL
  const char* path = getenv("LD_LIBRARY_PATH");
  const char* debug = getenv("NCCL_DEBUG");
  printf("fake %s: nccl %d; LD_LIBRARY_PATH=%s; NCCL_DEBUG=%s\n", argv[0], v, path ? path : "", debug ? debug : "");
  return 0;
}
)c";

// A GPU stand-in for nvidia-smi: one H100, driver 580 (CUDA 13.0), Default compute mode, nothing running.
const char* const kNvidiaSmi = R"sh(case "$*" in
  -L) echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)" ;;
  *compute_cap*noheader*) echo "9.0" ;;
  *compute_mode*noheader*) echo "Default" ;;
  *name*noheader*) echo "NVIDIA H100 80GB HBM3" ;;
  *--query-gpu*) echo "name, driver_version, compute_cap"; echo "NVIDIA H100 80GB HBM3, 580.82.07, 9.0" ;;
  *--query-compute-apps*) ;;
  "") echo "| NVIDIA-SMI 580.82.07   Driver Version: 580.82.07   CUDA Version: 13.0 |" ;;
esac
)sh";

// This machine's glibc version, e.g. "2.36".
std::string host_glibc() { return run_command("getconf GNU_LIBC_VERSION | cut -d' ' -f2 | tr -d '\\n'").out; }

class DevicePack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have("cc")) GTEST_SKIP() << "no C compiler";
    if (!have("ompi_info") || !have("orterun")) GTEST_SKIP() << "no Open MPI to pack";
    ASSERT_EQ(run_command("mkdir -p " + root() + "/nccl " + root() + "/libs " + root() + "/bin " + build() +
                          "/src " + build() + "/tests/cuda && cp -r " + PPB_SOURCE_DIR + "/launch " + root() + "/")
                  .exit_code,
              0);
    write_text(root() + "/nccl.c", "int ncclGetVersion(int* v) { *v = 22805; return 0; }\n");
    compile("-shared -fPIC -Wl,-soname,libnccl.so.2 -o " + root() + "/nccl/libnccl.so.2 " + root() + "/nccl.c");
    write_script(root() + "/bin/nvidia-smi", kNvidiaSmi);
  }

  const std::string& root() const { return dir_.path(); }
  std::string build() const { return root() + "/build"; }
  std::string pack() const { return root() + "/.devpack"; }

  void compile(const std::string& args) {
    const auto r = run_command("cc " + args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // A library with one function `name` in version node `version` (none when empty).
  std::string library(const std::string& soname, const std::string& name, const std::string& version) {
    const std::string src = root() + "/" + soname + ".c";
    write_text(src, "int " + name + "(void) { return 1; }\n");
    std::string flags;
    if (!version.empty()) {
      write_text(src + ".map", version + " { global: " + name + "; local: *; };\n");
      flags = " -Wl,--version-script=" + src + ".map";
    }
    const std::string lib = root() + "/libs/" + soname;
    compile("-shared -fPIC -Wl,-soname," + soname + flags + " -o " + lib + " " + src);
    return lib;
  }

  // The five programs of a build. ppbench links NCCL (unless `with_nccl` is
  // false), then `extra` (a library in libs/ and the function it calls).
  void build_programs(bool with_nccl, const std::string& link_flags = "", const std::string& extra_lib = "",
                      const std::string& extra_function = "") {
    std::string source = kProgram;
    const std::string declaration = extra_function.empty() ? "" : "int " + extra_function + "(void);";
    const std::string call = extra_function.empty() ? "" : extra_function + "();";
    source.replace(source.find("EXTRA_DECLARATION"), 17, declaration);
    source.replace(source.find("EXTRA_CALL"), 10, call);
    write_text(root() + "/ppbench.c", source);
    std::string plain = kProgram;
    plain.replace(plain.find("EXTRA_DECLARATION"), 17, "");
    plain.replace(plain.find("EXTRA_CALL"), 10, "");
    if (!with_nccl) plain = "int main(void) { return 0; }\n";
    write_text(root() + "/plain.c", plain);
    const std::string nccl = with_nccl ? " -L" + root() + "/nccl -l:libnccl.so.2" : "";
    const std::string extra = extra_lib.empty() ? "" : " -L" + root() + "/libs -l:" + extra_lib;
    compile("-o " + build() + "/src/ppbench " + root() + (with_nccl ? "/ppbench.c" : "/plain.c") + nccl + extra + " " +
            link_flags);
    compile("-o " + build() + "/src/ppsim " + root() + "/plain.c" + nccl);
    for (const char* t : {"gpu_kernels_test", "gpu_backend_test", "gpu_ppbench_test"}) {
      ASSERT_EQ(run_command("cp " + build() + "/src/ppsim " + build() + "/tests/cuda/" + t).exit_code, 0);
    }
  }

  CommandResult pack_build() const {
    // libs/ stands for the build machine's system folders: found when packing, not on the device.
    return run_command("LD_LIBRARY_PATH=" + root() + "/libs " + root() + "/launch/device/pack-for-device.sh --from " +
                       build());
  }

  // `command` after sourcing device-env.sh, with the stand-in nvidia-smi first on PATH.
  CommandResult in_device_env(const std::string& command) const {
    return run_command("cd " + root() + " && PATH=" + root() + "/bin:$PATH PPB_NCCL_LIB=" + root() +
                       "/nccl bash -c 'source launch/device/device-env.sh > /dev/null && " + command + "'");
  }

  CommandResult preflight() const { return in_device_env("launch/device/preflight.sh .devpack"); }

 private:
  TempDir dir_;
};

TEST_F(DevicePack, RefusesABuildWithoutCuda) {
  build_programs(false);
  const auto r = pack_build();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pack-for-device.sh: " + build() +
                       "/src/ppbench does not link libnccl.so.2: built without the CUDA backend (configure with "
                       "PPB_ENABLE_CUDA=ON)\n");
  EXPECT_FALSE(fs::exists(pack()));

  // No GPU tests: a build without CUDA has none.
  build_programs(true);
  ASSERT_EQ(run_command("rm " + build() + "/tests/cuda/gpu_backend_test").exit_code, 0);
  const auto missing = pack_build();
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("gpu_backend_test: missing: a build without CUDA"), std::string::npos) << missing.err;
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
}

// A library path built into a program (RPATH, or RUNPATH) could load another
// libnccl.so.2 than the one device-env.sh puts first.
TEST_F(DevicePack, RefusesProgramsWithABuiltInLibraryPath) {
  for (const char* flags : {"-Wl,-rpath,/usr/local/cuda/lib64 -Wl,--disable-new-dtags",
                            "-Wl,-rpath,/usr/local/cuda/lib64 -Wl,--enable-new-dtags"}) {
    build_programs(true, flags);
    const auto r = pack_build();
    EXPECT_EQ(r.exit_code, 2) << flags;
    EXPECT_EQ(r.err, "pack-for-device.sh: " + build() +
                         "/src/ppbench has the library path /usr/local/cuda/lib64 built in: it could load another "
                         "libnccl.so.2 than the device's (configure with CMAKE_SKIP_RPATH=ON)\n")
        << flags;
    EXPECT_FALSE(fs::exists(pack()));
  }
}

// A good pack: Open MPI without its remote launchers and fabrics, a manifest
// naming the newest glibc it needs, an env.sh that adds no empty library path
// element, programs that find every library in the pack and NCCL where
// device-env.sh says, a pre-flight that passes, and mpirun that starts ranks
// with nothing but the pack on PATH (no ssh: the device has none).
TEST_F(DevicePack, PacksProgramsThatFindThePacksLibrariesAndTheDevicesNccl) {
  build_programs(true);
  const auto r = pack_build();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"ppbench", "ppsim", "gpu_kernels_test", "gpu_backend_test", "gpu_ppbench_test", "manifest.txt",
                        "ompi/env.sh", "ompi/bin/mpirun", "ompi/bin/orted", "ompi/lib/openmpi/mca_pml_ob1.so",
                        "ompi/lib/openmpi/mca_btl_vader.so", "ompi/lib/openmpi/mca_plm_isolated.so"}) {
    EXPECT_TRUE(fs::exists(pack() + "/" + f)) << f;
  }
  for (const auto& e : fs::directory_iterator(pack() + "/ompi/lib/openmpi")) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find("ucx"), std::string::npos) << name;
    EXPECT_NE(name, "mca_plm_rsh.so");
  }
  const std::string manifest = read_text(pack() + "/manifest.txt");
  const std::string glibc = host_glibc();
  const std::string needed = manifest.substr(14, manifest.find(' ', 14) - 14);  // "glibc_needed: X file"
  ASSERT_EQ(manifest.rfind("glibc_needed: ", 0), 0u) << manifest;
  EXPECT_EQ(run_command("printf '%s\\n' " + needed + " " + glibc + " | sort -V | tail -n 1").out, glibc + "\n")
      << manifest;

  for (const char* caller : {"env -u LD_LIBRARY_PATH", "env LD_LIBRARY_PATH="}) {
    const auto env = run_command(std::string(caller) + " bash -c 'source " + pack() +
                                 "/ompi/env.sh && echo \"$LD_LIBRARY_PATH\"'");
    EXPECT_EQ(env.out, pack() + "/ompi/lib\n") << caller;
  }
  const auto ldd = in_device_env("for p in .devpack/ppbench .devpack/ompi/bin/* .devpack/ompi/lib/*.so* "
                                 ".devpack/ompi/lib/openmpi/*.so; do ldd $p; done");
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  EXPECT_EQ(ldd.out.find("not found"), std::string::npos) << ldd.out;
  EXPECT_NE(ldd.out.find("libnccl.so.2 => " + root() + "/nccl/libnccl.so.2"), std::string::npos) << ldd.out;
  EXPECT_NE(ldd.out.find("libmpi.so.40 => " + root() + "/.devpack/ompi/lib/libmpi.so.40"), std::string::npos);

  const auto ok = preflight();
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("\nlibnccl.so.2: " + root() + "/nccl/libnccl.so.2 -> "), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("\ngpu: GPU 0: NVIDIA H100 80GB HBM3"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("\npack: glibc_needed: "), std::string::npos) << ok.out;
  EXPECT_EQ(ok.out.substr(ok.out.size() - 14), "preflight: ok\n") << ok.out;

  const auto mpi = in_device_env("PATH=" + pack() + "/ompi/bin mpirun -np 2 --oversubscribe " + pack() + "/ppbench");
  ASSERT_EQ(mpi.exit_code, 0) << mpi.out << mpi.err;
  EXPECT_EQ(count_lines(mpi.out), 2) << mpi.out;
  EXPECT_NE(mpi.out.find("nccl 22805"), std::string::npos) << mpi.out;
}

// What the dynamic loader cannot resolve on the device, said in one line
// before anything runs: a library that is not there, a symbol version that
// the library there lacks (as a packed library needing a newer glibc would).
TEST_F(DevicePack, PreflightRefusesWhatTheLoaderCannotResolve) {
  library("libppb_versioned.so", "ppb_versioned", "PPB_2.0");
  build_programs(true, "", "libppb_versioned.so", "ppb_versioned");
  ASSERT_EQ(pack_build().exit_code, 0);
  ASSERT_TRUE(fs::exists(pack() + "/ompi/lib/libppb_versioned.so"));

  // The same library without the version the program was linked against.
  const std::string older = library("libppb_versioned.so", "ppb_versioned", "PPB_1.0");
  ASSERT_EQ(run_command("cp " + older + " " + pack() + "/ompi/lib/").exit_code, 0);
  const auto version = preflight();
  EXPECT_EQ(version.exit_code, 2) << version.out;
  EXPECT_EQ(version.err.rfind("preflight: refused: ppbench: ", 0), 0u) << version.err;
  EXPECT_NE(version.err.find("version `PPB_2.0' not found"), std::string::npos) << version.err;
  EXPECT_EQ(count_lines(version.err), 1) << version.err;
  EXPECT_NE(version.out.find("\nldd: ppbench: "), std::string::npos) << version.out;  // the whole list

  ASSERT_EQ(run_command("rm " + pack() + "/ompi/lib/libppb_versioned.so").exit_code, 0);
  const auto gone = preflight();
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_EQ(gone.err, "preflight: refused: ppbench: libppb_versioned.so => not found\n");
}

// The pack needs the newest GLIBC_ version any packed file names (found with
// objdump when packing); a machine whose glibc is older is refused before
// anything is loaded. Here a library calls its version node GLIBC_99.0.
TEST_F(DevicePack, PreflightRefusesAMachineWhoseGlibcIsOlderThanThePacksNeed) {
  library("libppb_future.so", "ppb_future", "GLIBC_99.0");
  build_programs(true, "", "libppb_future.so", "ppb_future");
  ASSERT_EQ(pack_build().exit_code, 0);
  EXPECT_EQ(read_text(pack() + "/manifest.txt").rfind("glibc_needed: 99.0 ppbench\n", 0), 0u);
  const auto r = preflight();
  EXPECT_EQ(r.exit_code, 2);
  const std::string glibc = host_glibc();
  EXPECT_EQ(r.err, "preflight: refused: this machine's glibc is " + glibc +
                       "; the pack needs 99.0 ppbench (its newest GLIBC_ symbol version): pack on a machine whose "
                       "glibc is no newer than " + glibc + "\n");
  EXPECT_NE(r.out.find("\nglibc: " + glibc + "\n"), std::string::npos) << r.out;  // the facts came first
}

// Without a pack the device's environment cannot be set: the call stops at
// once, with that one line, and still brings back the machine's facts.
TEST_F(DevicePack, DeviceRunWithoutAPackStopsAtOnceAndStillReturnsTheFacts) {
  const std::string out = root() + "/out";
  const auto r = run_command("cd " + root() + " && PATH=" + root() + "/bin:$PATH launch/device/device-run.sh " + out);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  const std::string line = "device-env.sh: " + pack() +
                           "/ompi/env.sh missing: run launch/device/pack-for-device.sh on the build machine and carry "
                           ".devpack";
  EXPECT_NE(r.out.find("device-run.sh: " + line + ": nothing else was run\n"), std::string::npos) << r.out;
  EXPECT_NE(read_text(out + "/device.txt").find("\ngpu: GPU 0: NVIDIA H100 80GB HBM3"), std::string::npos);
  const std::string commands = read_text(extract_results(out, "NVIDIA-H100-80GB-HBM3") + "commands.txt");
  EXPECT_NE(commands.find("device-env (refused): " + line + "\n"), std::string::npos) << commands;
}

// The whole device flow, in device mode, on a machine without a GPU:
// stand-ins for the GPU tools and programs, the real packed mpirun. python3
// (a stand-in first on PATH that records the library path it was started
// with, then runs the real one) never gets the pack's libraries, while every
// step does.
TEST_F(DevicePack, DeviceRunKeepsThePacksLibrariesAwayFromPython) {
  build_programs(true);
  ASSERT_EQ(pack_build().exit_code, 0);
  const std::string python_log = root() + "/python.log";
  const std::string real_python = run_command("command -v python3 | tr -d '\\n'").out;
  write_script(root() + "/bin/python3",
               "echo \"LD_LIBRARY_PATH=${LD_LIBRARY_PATH-unset}\" >> " + python_log + "\ncase \"$*\" in *nvidia.nccl*) echo " +
                   root() + "/nccl; exit 0 ;; esac\n" +
                   (real_python.empty() ? "exit 1\n" : "exec " + real_python + " \"$@\"\n"));
  const std::string out = root() + "/out";
  const auto r = run_command("cd " + root() + " && PATH=" + root() + "/bin:$PATH launch/device/device-run.sh " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string calls = read_text(python_log);
  EXPECT_GE(count_lines(calls), 2) << calls;  // NCCL's folder, then the error tables
  EXPECT_EQ(calls.find(".devpack"), std::string::npos) << calls;
  const std::string results = extract_results(out, "NVIDIA-H100-80GB-HBM3");
  EXPECT_NE(read_text(out + "/device.txt").find("\nlibrary path: " + root() + "/nccl:" + pack() + "/ompi/lib"),
            std::string::npos);
  const std::string commands = read_text(results + "commands.txt");
  for (const char* step : {"preflight", "gpu_kernels_test", "gpu_backend_test", "smoke-2ranks", "1f1b", "gpipe",
                           "interleaved", "zb-h1", "calibrate", "gpu_ppbench_test", "sweep"}) {
    EXPECT_NE(commands.find(std::string(step) + " (exit 0, "), std::string::npos) << step << "\n" << commands;
  }
  EXPECT_NE(commands.find("1f1b-mps (skipped: nvidia-cuda-mps-control not found)\n"), std::string::npos) << commands;
  // The steps ran with the pack's libraries and the device's NCCL; the first MPI step with NCCL's set-up story.
  const std::string log = read_text(out + "/log.txt");
  EXPECT_NE(log.find("/ppbench: nccl 22805; LD_LIBRARY_PATH=" + root() + "/nccl:" + pack() + "/ompi/lib"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("NCCL_DEBUG=INFO\n"), std::string::npos) << log;
  EXPECT_NE(log.find("NCCL_DEBUG=WARN\n"), std::string::npos) << log;
  EXPECT_LE(entries_of(out).size(), 8u);
}

}  // namespace
}  // namespace ppb::test
