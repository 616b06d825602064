// One change the portal did not take. Rejected: the portal's message, «Исправить» (the patient
// card; saving queues it again), «Отправить снова» and «Отменить изменение» (after a yes: ours is
// dropped, the portal's version comes back). Conflict: both versions side by side with «Оставить
// мою версию», «Принять версию портала» (after a yes: ours is dropped) and «Объединить» (field by
// field). A lost booking: «Выбрать другое время» or «Отменить запись».
import { useQueryClient } from '@tanstack/react-query'
import { Button, Tag } from 'antd'
import dayjs from 'dayjs'
import { useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { SyncProblem, SyncStatus } from '../../../shared/registrar'
import { errorData } from '../api'
import { ConfirmButton } from '../components/ConfirmButton'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { useNav } from '../shell/navigation'
import { buildMerged, compareRows } from './conflict-model'
import { ConflictCompare } from './ConflictCompare'
import { refreshTypes, storeSyncStatus, useDoctors } from './hooks'
import { scheduleOfResource, wallDate } from './schedule-model'
import { SlotPicker } from './SlotPicker'
import { discardsNew, problemActions, problemKind, type ProblemKind } from './sync-model'

const KIND_COLORS: Record<ProblemKind, string> = { rejected: 'red', conflict: 'volcano', slotTaken: 'orange' }

export function ProblemCard({ problem }: { problem: SyncProblem }): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const nav = useNav()
  const doctors = useDoctors()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)
  const [merging, setMerging] = useState(false)
  const [keepLocal, setKeepLocal] = useState<ReadonlySet<string>>(new Set())
  const [moving, setMoving] = useState(false)
  const [moveError, setMoveError] = useState<AppErrorData | null>(null)

  const kind = problemKind(problem)
  const offered = new Set(problemActions(problem))
  const rows = useMemo(
    () => compareRows(problem.resourceType, problem.local, problem.remote, { basis: (code) => t(`registrar.attachment.bases.${code}`, { defaultValue: code }) }),
    [problem, t],
  )
  const appointmentId = problem.appointmentId

  // The lists (problems included) refresh on the core's data.changed event (useRegistrarEvents).
  const settled = (status: SyncStatus | null): void => {
    if (status) storeSyncStatus(qc, status)
  }

  const run = async (call: () => Promise<SyncStatus>): Promise<void> => {
    if (busy) return
    setBusy(true)
    setError(null)
    try {
      settled(await call())
    } catch (e) {
      setError(errorData(e))
    } finally {
      setBusy(false)
    }
  }

  const resolve = (choice: 'local' | 'remote' | 'merged') =>
    run(() =>
      api.call('sync.resolve', {
        changeId: problem.changeId,
        choice,
        merged: choice === 'merged' ? buildMerged(problem.resourceType, problem.local, problem.remote, keepLocal) : null,
      }),
    )

  const move = async (slotId: string): Promise<void> => {
    if (appointmentId === null) return
    setBusy(true)
    setMoveError(null)
    try {
      await api.call('appointments.move', { id: appointmentId, slotId })
      setMoving(false)
    } catch (e) {
      setMoveError(errorData(e))
      refreshTypes(qc, ['Slot'])
    } finally {
      setBusy(false)
    }
  }

  const keep = (key: string, side: 'local' | 'remote'): void =>
    setKeepLocal((s) => {
      const next = new Set(s)
      if (side === 'local') next.add(key)
      else next.delete(key)
      return next
    })

  let actions: ReactNode
  if (kind === 'rejected') {
    actions = (
      <>
        {offered.has('fix') ? (
          <Button type="primary" onClick={() => nav.go({ area: 'patient', id: problem.resourceId, fix: { changeId: problem.changeId, message: problem.message } })} data-testid="problem-fix">
            {t('registrar.problems.fix')}
          </Button>
        ) : null}
        <Button loading={busy} onClick={() => void run(() => api.call('sync.retry', { changeId: problem.changeId }))} data-testid="problem-retry">
          {t('registrar.problems.retry')}
        </Button>
        <ConfirmButton
          testId="problem-discard"
          danger
          disabled={busy}
          title={t('registrar.problems.discardTitle')}
          text={
            discardsNew(problem.action)
              ? t('registrar.problems.discardNewText', { title: problem.title })
              : t('registrar.problems.discardText', { title: problem.title })
          }
          confirmText={t('registrar.problems.discard')}
          onConfirm={() => run(() => api.call('sync.discard', { changeId: problem.changeId }))}
        >
          {t('registrar.problems.discard')}
        </ConfirmButton>
      </>
    )
  } else if (kind === 'slotTaken') {
    actions = (
      <>
        {offered.has('move') ? (
          <Button
            type="primary"
            disabled={busy}
            onClick={() => {
              setMoveError(null)
              setMoving(true)
            }}
            data-testid="problem-move"
          >
            {t('registrar.problems.pickOther')}
          </Button>
        ) : null}
        <ConfirmButton
          testId="problem-cancel-booking"
          danger
          disabled={busy}
          title={t('registrar.problems.cancelBookingTitle')}
          text={t('registrar.problems.cancelBookingText', { title: problem.title })}
          confirmText={t('registrar.problems.cancelBooking')}
          onConfirm={() => resolve('remote')}
        >
          {t('registrar.problems.cancelBooking')}
        </ConfirmButton>
      </>
    )
  } else if (merging) {
    actions = (
      <>
        <Button type="primary" loading={busy} onClick={() => void resolve('merged')} data-testid="merge-apply">
          {t('registrar.problems.mergeApply', { count: keepLocal.size })}
        </Button>
        <Button disabled={busy} onClick={() => setMerging(false)} data-testid="merge-cancel">
          {t('common.cancel')}
        </Button>
      </>
    )
  } else {
    actions = (
      <>
        {offered.has('keepLocal') ? (
          <Button type="primary" loading={busy} onClick={() => void resolve('local')} data-testid="resolve-local">
            {t('registrar.problems.keepLocal')}
          </Button>
        ) : null}
        <ConfirmButton
          testId="resolve-remote"
          danger
          disabled={busy}
          title={t('registrar.problems.takeRemoteTitle')}
          text={t('registrar.problems.takeRemoteText')}
          confirmText={t('registrar.problems.takeRemote')}
          onConfirm={() => resolve('remote')}
        >
          {t('registrar.problems.takeRemote')}
        </ConfirmButton>
        {offered.has('merge') ? (
          <Button
            disabled={busy}
            onClick={() => {
              setKeepLocal(new Set())
              setMerging(true)
            }}
            data-testid="resolve-merged"
          >
            {t('registrar.problems.merge')}
          </Button>
        ) : null}
      </>
    )
  }

  return (
    <article className="panel problem-card" data-testid={`problem-${problem.changeId}`} data-kind={kind} data-action={problem.action} data-resource={problem.resourceId}>
      <div className="panel__head">
        <div>
          <h2 className="panel__title">
            {problem.title} <Tag color={KIND_COLORS[kind]}>{t(`registrar.problems.kind.${kind}`)}</Tag>
          </h2>
          <div className="problem-card__meta">
            {t(`registrar.actions.${problem.action}`)} · {t('registrar.problems.made', { when: dayjs(problem.createdAt).format('DD.MM.YYYY HH:mm'), by: problem.by })}
          </div>
        </div>
      </div>
      <div className="panel__body">
        {problem.message ? (
          <div className={`problem-card__message problem-card__message--${kind}`} data-testid="problem-message">
            {kind === 'rejected' ? <strong>{t('registrar.problems.portalSaid')} </strong> : null}
            {problem.message}
          </div>
        ) : null}
        {/* The portal's or the core's message already says what happened: the hint then only says what to do. */}
        {kind === 'slotTaken' ? (
          <p className="home__muted" data-testid="problem-hint">
            {problem.message ? t('registrar.problems.slotTakenAction') : t('registrar.problems.slotTakenHint')}
          </p>
        ) : null}
        {kind === 'conflict' ? (
          <>
            <p className="home__muted" data-testid="problem-hint">
              {merging ? t('registrar.problems.mergeHint') : problem.message ? t('registrar.problems.conflictAction') : t('registrar.problems.conflictHint')}
            </p>
            <ConflictCompare resourceType={problem.resourceType} rows={rows} merging={merging} keepLocal={keepLocal} onKeep={keep} />
          </>
        ) : null}
        {error ? <ErrorAlert error={error} testId="problem-error" /> : null}
        <div className="pw-form__actions">{actions}</div>
      </div>
      {moving ? (
        <SlotPicker
          title={t('registrar.problems.pickOther')}
          subject={problem.title}
          initialScheduleId={doctors.data ? scheduleOfResource(problem.local ?? problem.remote, doctors.data) : null}
          initialDate={typeof problem.local?.start === 'string' ? wallDate(problem.local.start) || undefined : undefined}
          busy={busy}
          error={moveError}
          onPick={(slot) => void move(slot.id)}
          onClose={() => setMoving(false)}
        />
      ) : null}
    </article>
  )
}
