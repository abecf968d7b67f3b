// One way to turn an MPI return code into an error, for the runtime's MPI
// code (mpi_world, cpu_backend). Takes the code as int: no MPI type here.
#pragma once

namespace ppb {

// Throws RunError "<call> failed: <MPI's error string>" unless rc is MPI_SUCCESS.
void check_mpi(int rc, const char* call);

}  // namespace ppb
